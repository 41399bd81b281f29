/*
 * derived.c - structs reached through pointers declared to point to another struct.
 *
 *   derived
 *
 * C derives by embedding: each `item` begins with a `struct hdr`, and the item list links items
 * through `struct hdr *` pointers. An item's own pointer lies past sizeof(struct hdr) (16),
 * inside the 24 bytes glibc hands out for 16, so a scan that cut the block at sizeof(struct hdr)
 * would lose the record it points to. A `struct blob` is reached through `struct blob *`
 * pointers; it holds stale pointer bytes in its char array and in the slack jemalloc or glibc
 * leave past sizeof(struct blob): no larger struct begins with a blob, so neither anchors.
 * Each "record" is a 64-byte block:
 *   anchored:  the records items point to (only through the item's own member);
 *   leaked:    the records whose addresses survive only as bytes in blobs.
 */
#include "sample_common.h"

#include <malloc.h>

#define RECORD_MAGIC 0xDE41BEDD00000000ull
#define ITEMS 4
#define BLOBS 3

#include "sample_records.h"

struct hdr {
    uint32_t kind;
    uint32_t flags;
    struct hdr *next;
};

struct item {
    struct hdr h;
    record_t *record;
};

struct blob {
    uint64_t length;
    char bytes[40];
};

_Static_assert(sizeof(struct hdr) == 16 && sizeof(struct item) == 24, "item must be hdr + one pointer");
_Static_assert(sizeof(struct blob) == 48, "blob must be 48 bytes");

struct hdr *g_items;
struct blob *g_blobs[BLOBS];

static __attribute__((noinline)) void build(void)
{
    uint64_t index = 0;
    for (int i = 0; i < ITEMS; i++) {
        struct item *item = malloc(sizeof *item);
        if (!item)
            abort();
        item->h.kind = 7;
        item->h.flags = (uint32_t)i;
        item->record = anchored(index++);
        item->h.next = g_items;
        g_items = &item->h;
    }
    for (int i = 0; i < BLOBS; i++) {
        /* The usable size the allocator gives for a blob, so the slack is written on purpose. */
        char *block = malloc(sizeof(struct blob));
        if (!block)
            abort();
        struct blob *blob = (struct blob *)block;
        blob->length = 11;
        memset(blob->bytes, 0, sizeof blob->bytes);
        memcpy(blob->bytes, "hello blob", 11);
        leaked(index++, blob->bytes + 16);
        g_blobs[i] = blob;
    }
    /* glibc gives 56 usable bytes for 48: the word past the blob is slack. */
    if (malloc_usable_size(g_blobs[0]) >= sizeof(struct blob) + 8)
        leaked(index++, (char *)g_blobs[0] + sizeof(struct blob));
}

int main(void)
{
    build();
    print_records_and_stop("derived");
}
