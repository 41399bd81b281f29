/*
 * magic.c - heap objects tagged with known magic numbers.
 *
 *   magic [n32 [n64 [anchored32 [anchored64]]]]     (defaults 1000 800 100 50)
 *
 * Builds two kinds of object, interleaved with unrelated "filler"
 * allocations so the heap looks like a heap:
 *   obj32_t  48 bytes, 4-byte magic 0xA11C0DE5 at offset 0
 *   obj64_t  80 bytes, 8-byte magic 0x5EED0F1EA4ED0001 at offset 8
 * n32/n64 objects of each are LEAKED (no pointer to them is kept anywhere),
 * anchored32/anchored64 more are ANCHORED in the global array g_anchors
 * (.bss).  Each magic value occurs in memory exactly (leaked + anchored)
 * times: the magics are only ever written by init_obj32/64, all other fields
 * hold small index-based integers, and no magic-carrying chunk is ever
 * freed.  Fillers hold small integers only; some are freed to make holes.
 */
#include "sample_common.h"

#define MAGIC32 0xA11C0DE5u
#define MAGIC64 0x5EED0F1EA4ED0001ull
/* The truth spells the magics out as text literals: a magic passed to printf
 * as a binary argument could be left behind in a stack frame. */
#define ANCHOR_MAX 65536 /* capacity of g_anchors (anchored32 + anchored64) */
#define FILLER_MAX 65536
#define NEXAMPLES 5

typedef struct {
    uint32_t magic;   /* offset 0 */
    uint32_t index;
    uint64_t f[5];    /* index-based values, never a magic */
} obj32_t;

typedef struct {
    uint64_t index;
    uint64_t magic;   /* offset 8 */
    uint64_t f[8];
} obj64_t;

_Static_assert(sizeof(obj32_t) == 48, "obj32_t must be 48 bytes");
_Static_assert(sizeof(obj64_t) == 80, "obj64_t must be 80 bytes");

/* The only roots: anchored objects live here, fillers in g_fillers. */
void *g_anchors[ANCHOR_MAX];
static void *g_fillers[FILLER_MAX];
static size_t g_nfillers;

/* First NEXAMPLES addresses of each kind, as text only (see sample_common.h). */
static char g_ex32[NEXAMPLES][24], g_ex64[NEXAMPLES][24];
static char g_an32[NEXAMPLES][24], g_an64[NEXAMPLES][24];

/* noinline: the caller never sees the pointer except as a return value. */
static __attribute__((noinline)) obj32_t *new_obj32(uint32_t i)
{
    obj32_t *o = malloc(sizeof *o);
    if (!o) abort();
    o->magic = MAGIC32;
    o->index = i;
    for (int k = 0; k < 5; k++)
        o->f[k] = (uint64_t)i * 8 + (uint64_t)k;
    return o;
}

static __attribute__((noinline)) obj64_t *new_obj64(uint32_t i)
{
    obj64_t *o = malloc(sizeof *o);
    if (!o) abort();
    o->index = i;
    o->magic = MAGIC64;
    for (int k = 0; k < 8; k++)
        o->f[k] = (uint64_t)i * 16 + (uint64_t)k;
    return o;
}

/* Unrelated allocation of a size that is neither 48 nor 80 (chunk != 64/96). */
static __attribute__((noinline)) void filler(size_t i)
{
    static const size_t sizes[] = { 16, 120, 200, 24, 520, 33, 1500 };
    size_t sz = sizes[i % 7];
    uint32_t *p = malloc(sz);
    if (!p) abort();
    for (size_t k = 0; k < sz / 4; k++)
        p[k] = (uint32_t)(i + k);
    if (i % 3 == 0 || g_nfillers >= FILLER_MAX)
        free(p);              /* holes; never contained a magic */
    else
        g_fillers[g_nfillers++] = p;
}

/*
 * Allocates everything: obj32, obj64 and (every 4th step) a filler, so the
 * kinds are interleaved in the heap.  Anchored objects are spread evenly
 * through each kind's sequence rather than all coming first.
 */
static __attribute__((noinline)) void build(long n32, long n64, long a32, long a64)
{
    long t32 = n32 + a32, t64 = n64 + a64;
    long total = t32 > t64 ? t32 : t64;
    long na32 = 0, na64 = 0, nl32 = 0, nl64 = 0;
    size_t fill = 0;
    for (long i = 0; i < total; i++) {
        if (i < t32) {
            obj32_t *o = new_obj32((uint32_t)i);
            /* anchor evenly spread: the object is anchored while the
             * anchored quota is ahead of its share of the sequence */
            if (na32 < a32 && (nl32 >= n32 || na32 * t32 <= i * a32)) {
                if (na32 < NEXAMPLES)
                    addr_text(g_an32[na32], sizeof g_an32[0], o);
                g_anchors[na32++] = o;
            } else {
                if (nl32 < NEXAMPLES)
                    addr_text(g_ex32[nl32], sizeof g_ex32[0], o);
                nl32++;
            }
        }
        if (i < t64) {
            obj64_t *o = new_obj64((uint32_t)i);
            if (na64 < a64 && (nl64 >= n64 || na64 * t64 <= i * a64)) {
                if (na64 < NEXAMPLES)
                    addr_text(g_an64[na64], sizeof g_an64[0], o);
                g_anchors[a32 + na64++] = o;
            } else {
                if (nl64 < NEXAMPLES)
                    addr_text(g_ex64[nl64], sizeof g_ex64[0], o);
                nl64++;
            }
        }
        if (i % 4 == 1)
            filler(fill++);
    }
    if (na32 != a32 || nl32 != n32 || na64 != a64 || nl64 != n64)
        abort();
}

int main(int argc, char **argv)
{
    long n32 = arg_count(argc, argv, 1, 1000, 10000000);
    long n64 = arg_count(argc, argv, 2, 800, 10000000);
    long a32 = arg_count(argc, argv, 3, 100, ANCHOR_MAX);
    long a64 = arg_count(argc, argv, 4, 50, ANCHOR_MAX);
    if (a32 + a64 > ANCHOR_MAX) {
        fprintf(stderr, "magic: anchored32 + anchored64 must be <= %d\n", ANCHOR_MAX);
        return 2;
    }

    build(n32, n64, a32, a64);
    scrub_stack();   /* drop stale pointer copies left by malloc frames */

    char anchors[24];
    addr_text(anchors, sizeof anchors, g_anchors);
#define MIN5(x) ((size_t)((x) < NEXAMPLES ? (x) : NEXAMPLES))
    out("{\"pid\":%d,\"program\":\"magic\",\"magics\":[", (int)getpid());
    out("{\"value\":\"0xa11c0de5\",\"width\":4,\"count\":%ld,\"leaked\":%ld,\"anchored\":%ld,"
        "\"object_size\":%zu,\"offset\":0,\"addresses\":",
        n32 + a32, n32, a32, sizeof(obj32_t));
    out_text_list(g_ex32, MIN5(n32));
    out(",\"anchored_addresses\":");
    out_text_list(g_an32, MIN5(a32));
    out("},{\"value\":\"0x5eed0f1ea4ed0001\",\"width\":8,\"count\":%ld,\"leaked\":%ld,\"anchored\":%ld,"
        "\"object_size\":%zu,\"offset\":8,\"addresses\":",
        n64 + a64, n64, a64, sizeof(obj64_t));
    out_text_list(g_ex64, MIN5(n64));
    out(",\"anchored_addresses\":");
    out_text_list(g_an64, MIN5(a64));
    out("}],\"global_anchor_array\":\"%s\",\"threads\":1}", anchors);
    finish_and_stop();
}
