/*
 * globals.c - module data whose DWARF types say which words can hold a pointer.
 *
 *   globals
 *
 * Each "record" is a 64-byte block. Some are kept by globals the program uses as pointers;
 * the others were dropped, and only stale bytes in globals that are not pointers still name
 * them, as happens when a pointer's bytes are copied into a log line or a struct is reused:
 *   anchored:  g_current (a pointer), g_handle (a uintptr_t holding a pointer), g_slot.ptr (a
 *              union member beside a char view), g_table.entries[] (pointer members of a struct),
 *              g_tagged (a uintptr_t pointer with its low bits used as a tag);
 *   leaked:    bytes copied into g_log_line (a char buffer), g_samples (a double array),
 *              g_table.name (a char array beside the struct's pointers) and g_halves (uint32_t
 *              pairs, each pair a whole pointer's bits).
 * With DWARF, only the first kind anchors anything; scanning module data word by word, both do.
 */
#include "sample_common.h"

#define RECORD_MAGIC 0x600DDA7A00000000ull
#define ENTRIES 4

typedef struct record {
    uint64_t tag;       /* RECORD_MAGIC | index */
    uint64_t payload[7];
} record_t;

_Static_assert(sizeof(record_t) == 64, "record_t must be 64 bytes");

struct table {
    record_t *entries[ENTRIES];
    char name[32];
    uint32_t count;
};

union slot {
    char text[16];
    record_t *ptr;
};

record_t *g_current;
uintptr_t g_handle;
uintptr_t g_tagged;
union slot g_slot;
struct table g_table;
char g_log_line[128];   /* arrays of 16 bytes or more are 16-byte aligned (x86-64 ABI) */
double g_samples[8];
uint32_t g_halves[8];

static char g_anchored[16][24], g_leaked[16][24];
static size_t g_nanchored, g_nleaked;

static __attribute__((noinline)) record_t *new_record(uint64_t index)
{
    record_t *r = malloc(sizeof *r);
    if (!r)
        abort();
    r->tag = RECORD_MAGIC | index;
    for (int k = 0; k < 7; k++)
        r->payload[k] = index * 8 + (uint64_t)k;
    return r;
}

static __attribute__((noinline)) record_t *anchored(uint64_t index)
{
    record_t *r = new_record(index);
    addr_text(g_anchored[g_nanchored++], sizeof g_anchored[0], r);
    return r;
}

/* The record's address survives only as the bytes copied to `stale`. */
static __attribute__((noinline)) void leaked(uint64_t index, void *stale)
{
    record_t *r = new_record(index);
    addr_text(g_leaked[g_nleaked++], sizeof g_leaked[0], r);
    memcpy(stale, &r, sizeof r);
}

static __attribute__((noinline)) void build(void)
{
    uint64_t index = 0;
    g_current = anchored(index++);
    g_handle = (uintptr_t)anchored(index++);
    g_tagged = (uintptr_t)anchored(index++) | 3;
    g_slot.ptr = anchored(index++);
    for (int i = 0; i < ENTRIES; i++)
        g_table.entries[i] = anchored(index++);
    g_table.count = ENTRIES;

    snprintf(g_log_line, sizeof g_log_line, "request 17 done");
    leaked(index++, g_log_line + 32);
    leaked(index++, g_log_line + 64);
    for (int i = 0; i < 8; i++)
        g_samples[i] = 0.5 * i;
    leaked(index++, &g_samples[3]);
    snprintf(g_table.name, sizeof g_table.name, "tbl");
    leaked(index++, g_table.name + 8);
    leaked(index++, &g_halves[2]);
}

int main(void)
{
    build();
    scrub_stack();
    out("{\"pid\":%d,\"program\":\"globals\",\"threads\":1,\"record_size\":%zu,\"anchored\":",
        (int)getpid(), sizeof(record_t));
    out_text_list(g_anchored, g_nanchored);
    out(",\"leaked\":");
    out_text_list(g_leaked, g_nleaked);
    out("}");
    finish_and_stop();
}
