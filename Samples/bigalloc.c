/*
 * bigalloc.c - large (but not mmapped) glibc allocations.
 *
 *   bigalloc [n8k [n16k]]          (defaults 64 64)
 *
 * Allocates n8k blocks of 8 KiB and n16k blocks of 16 KiB, interleaved
 * (8K, 16K, 8K, 16K, ...), all kept alive in an mmap()ed table.  Each block
 * starts with an 8-byte marker (different per size) followed by its index;
 * the rest is zero.  Both sizes are below the mmap threshold and above the
 * tcache limit, so they come from the main arena's top chunk, back to back.
 */
#include "sample_common.h"  /* first: defines _GNU_SOURCE */
#include <malloc.h>

#define MARK8K  0xB16A110C08000008ull
#define MARK16K 0xB16A110C16000016ull
/* (the truth spells them out as text: a binary printf argument could stay
 * behind in a stack frame and add an occurrence) */

static void **g_blocks;   /* allocation order; mmap()ed, not on the heap */

static __attribute__((noinline)) uint64_t *block(size_t size, uint64_t mark, uint64_t index)
{
    uint64_t *p = calloc(1, size);
    if (!p) abort();
    p[0] = mark;
    p[1] = index;
    return p;
}

static size_t chunk_size(const void *p)
{
    return ((const size_t *)p)[-1] & ~(size_t)7;   /* glibc chunk header */
}

static void list_sizes(int which, long n8, long n16)
{
    /* addresses of one size class, in allocation order */
    int first = 1;
    out("[");
    for (long i = 0; i < n8 + n16; i++) {
        const uint64_t *p = g_blocks[i];
        if ((which == 8 && p[0] == MARK8K) || (which == 16 && p[0] == MARK16K)) {
            out("%s\"0x%lx\"", first ? "" : ",", (unsigned long)p);
            first = 0;
        }
    }
    out("]");
}

int main(int argc, char **argv)
{
    long n8 = arg_count(argc, argv, 1, 64, 1000000);
    long n16 = arg_count(argc, argv, 2, 64, 1000000);
    long total = n8 + n16;
    g_blocks = mmap(NULL, (size_t)(total ? total : 1) * sizeof(void *), PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_blocks == MAP_FAILED) abort();

    long i8 = 0, i16 = 0, k = 0;
    while (i8 < n8 || i16 < n16) {
        if (i8 < n8) { g_blocks[k++] = block(8192, MARK8K, (uint64_t)i8); i8++; }
        if (i16 < n16) { g_blocks[k++] = block(16384, MARK16K, (uint64_t)i16); i16++; }
    }
    scrub_stack();

    out("{\"pid\":%d,\"program\":\"bigalloc\",\"threads\":1,\"block_table\":\"0x%lx\",\"sizes\":[",
        (int)getpid(), (unsigned long)g_blocks);
    out("{\"size\":8192,\"count\":%ld,\"magic\":\"0xb16a110c08000008\",\"magic_offset\":0,\"chunk_size\":%zu,\"addresses\":",
        n8, n8 ? chunk_size(g_blocks[0]) : (size_t)0);
    list_sizes(8, n8, n16);
    out("},{\"size\":16384,\"count\":%ld,\"magic\":\"0xb16a110c16000016\",\"magic_offset\":0,\"chunk_size\":%zu,\"addresses\":",
        n16, n16 ? chunk_size(g_blocks[n8 ? 1 : 0]) : (size_t)0);
    list_sizes(16, n8, n16);
    /* all blocks in allocation order, and the distance to the next one */
    out("}],\"allocation_order\":[");
    for (long i = 0; i < total; i++)
        out("%s\"0x%lx\"", i ? "," : "", (unsigned long)g_blocks[i]);
    out("],\"spacing\":[");
    for (long i = 0; i + 1 < total; i++)
        out("%s%ld", i ? "," : "", (long)((char *)g_blocks[i + 1] - (char *)g_blocks[i]));
    out("]}");
    finish_and_stop();
}
