/*
 * mallocsizes.c - glibc allocator ground truth: chunk sizes, tcache,
 * fastbins, unsorted bin, mmapped chunks, several arenas.
 *
 *   mallocsizes [rows [nmmap]]       (defaults 200 10)
 *
 * Threads 0 (main) .. 3 each allocate `rows` rows, one chunk of every
 * request size 24, 40, 100, 200, 1000, 5000 per row (interleaved, so the
 * heap reads 24,40,100,200,1000,5000,24,40,...).  Each new thread gets its
 * own arena, so there are 4 arenas.  Then every thread frees, in its own
 * thread (tcache is per thread), for size index s the rows r <= rows-2 with
 * r % FREE_MOD[s] == FREE_REM[s], size by size in row order.  With glibc's
 * defaults that puts
 *   - the first 7 freed chunks of each size <= 1032 bytes in the tcache,
 *   - further freed chunks of 24/40/100 (chunk 32/48/112 <= 0x80) in fastbins,
 *   - further freed 200/1000 and all freed 5000 chunks in the unsorted bin.
 * No freed chunk of the unsorted kind is adjacent to another free chunk or
 * to top (the patterns never free neighbours, the last row is never freed),
 * so nothing coalesces, and nothing is malloc'd after the frees, so nothing
 * is sorted into small/large bins or moved back into the tcache.
 * Main also allocates `nmmap` blocks of 300 KiB (above the mmap threshold),
 * before its frees.
 *
 * Afterwards main takes mallinfo2() (all arenas summed) and writes the truth
 * from a non-heap buffer, so printing changes nothing in the heap.
 */
#include "sample_common.h"   /* first: defines _GNU_SOURCE */
#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>

#define NTHREADS 4
#define NSIZES 6
#define TCACHE_COUNT 7         /* glibc default tcache_count */
#define TCACHE_MAX_REQ 1032    /* largest request served by the tcache */
#define FAST_MAX_CHUNK 0x80    /* default global_max_fast */
#define MMAP_REQ (300 * 1024)

static const size_t SIZES[NSIZES] = { 24, 40, 100, 200, 1000, 5000 };
static const long FREE_MOD[NSIZES] = { 3, 5, 4, 4, 4, 4 };
static const long FREE_REM[NSIZES] = { 0, 0, 2, 1, 3, 1 };

struct thread_truth {
    pid_t tid;
    char first[NSIZES][24];        /* first chunk of each size (live) */
    long live[NSIZES], freed[NSIZES], tcache[NSIZES], fast[NSIZES], unsorted[NSIZES];
    size_t chunk[NSIZES];          /* read back from the chunk headers */
};

static long g_rows;
static struct thread_truth g_truth[NTHREADS];
static void **g_tables[NTHREADS];  /* mmap()ed: [size][row] pointers */
static void *g_mmapped[64];
static size_t g_mmapped_chunk;
static pthread_barrier_t g_done;

static size_t chunk_of(size_t req)
{
    size_t c = (req + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

static size_t header_size(const void *p)
{
    return ((const size_t *)p)[-1] & ~(size_t)7;
}

static int freed_row(int s, long r)
{
    return r <= g_rows - 2 && r % FREE_MOD[s] == FREE_REM[s];
}

static void alloc_mmapped(long nmmap)
{
    for (long i = 0; i < nmmap; i++) {
        g_mmapped[i] = malloc(MMAP_REQ);
        if (!g_mmapped[i]) abort();
        memset(g_mmapped[i], 0x5a, 64);
        g_mmapped_chunk = header_size(g_mmapped[i]);
    }
}

/*
 * Allocates the rows, then (main only) the mmapped blocks, then frees.
 * The mmapped blocks must come before the frees: a request that large
 * first runs malloc_consolidate(), which would empty the fastbins.
 */
static __attribute__((noinline)) void work(int t, long nmmap)
{
    struct thread_truth *tt = &g_truth[t];
    tt->tid = gettid();
    void **tab = mmap(NULL, (size_t)(NSIZES * g_rows + 1) * sizeof *tab, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (tab == MAP_FAILED) abort();
    g_tables[t] = tab;

    for (long r = 0; r < g_rows; r++)
        for (int s = 0; s < NSIZES; s++) {
            unsigned char *p = malloc(SIZES[s]);
            if (!p) abort();
            memset(p, 0x11 * (s + 1), SIZES[s]);   /* small, pointer-free filling */
            tab[s * g_rows + r] = p;
        }
    alloc_mmapped(nmmap);
    for (int s = 0; s < NSIZES; s++) {
        size_t c = chunk_of(SIZES[s]);
        tt->chunk[s] = g_rows ? header_size(tab[s * g_rows]) : c;
        if (tt->chunk[s] != c) abort();              /* our model of glibc is wrong */
        for (long r = 0; r < g_rows; r++) {
            if (!freed_row(s, r)) {
                if (tt->live[s] == 0)
                    addr_text(tt->first[s], sizeof tt->first[0], tab[s * g_rows + r]);
                tt->live[s]++;
                continue;
            }
            free(tab[s * g_rows + r]);
            tab[s * g_rows + r] = NULL;
            long k = tt->freed[s]++;
            if (SIZES[s] <= TCACHE_MAX_REQ && k < TCACHE_COUNT)
                tt->tcache[s]++;
            else if (c <= FAST_MAX_CHUNK)
                tt->fast[s]++;
            else
                tt->unsorted[s]++;
        }
    }
}

static void *worker(void *arg)
{
    work((int)(intptr_t)arg, 0);
    scrub_stack();
    pthread_barrier_wait(&g_done);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    g_rows = arg_count(argc, argv, 1, 200, 1000000);
    long nmmap = arg_count(argc, argv, 2, 10, 64);

    /* Threads first: pthread_create's own allocations happen before ours. */
    pthread_barrier_init(&g_done, NULL, NTHREADS);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (long i = 1; i < NTHREADS; i++) {
        pthread_t th;
        if (pthread_create(&th, &attr, worker, (void *)(intptr_t)i) != 0) abort();
    }
    work(0, nmmap);
    pthread_barrier_wait(&g_done);

    struct mallinfo2 mi = mallinfo2();   /* after every allocation and free */
    scrub_stack();

    long fast = 0, fast_bytes = 0, unsorted = 0;
    for (int t = 0; t < NTHREADS; t++)
        for (int s = 0; s < NSIZES; s++) {
            fast += g_truth[t].fast[s];
            fast_bytes += g_truth[t].fast[s] * (long)chunk_of(SIZES[s]);
            unsorted += g_truth[t].unsorted[s];
        }

    out("{\"pid\":%d,\"program\":\"mallocsizes\",\"threads\":%d,\"arenas\":%d,\"rows\":%ld,"
        "\"glibc_version\":\"%s\",\"tcache_count\":%d,",
        (int)getpid(), NTHREADS, NTHREADS, g_rows, gnu_get_libc_version(), TCACHE_COUNT);
    out("\"mallinfo2\":{\"arena\":%zu,\"ordblks\":%zu,\"smblks\":%zu,\"hblks\":%zu,\"hblkhd\":%zu,"
        "\"usmblks\":%zu,\"fsmblks\":%zu,\"uordblks\":%zu,\"fordblks\":%zu,\"keepcost\":%zu},",
        mi.arena, mi.ordblks, mi.smblks, mi.hblks, mi.hblkhd, mi.usmblks, mi.fsmblks,
        mi.uordblks, mi.fordblks, mi.keepcost);
    out("\"expected\":{\"fastbin_chunks\":%ld,\"fastbin_bytes\":%ld,\"unsorted_chunks\":%ld,"
        "\"mmapped_chunks\":%ld,\"mmapped_bytes\":%zu},",
        fast, fast_bytes, unsorted, nmmap, (size_t)nmmap * g_mmapped_chunk);
    out("\"mmapped\":{\"request\":%d,\"count\":%ld,\"chunk_size\":%zu,\"addresses\":[",
        MMAP_REQ, nmmap, g_mmapped_chunk);
    for (long i = 0; i < nmmap; i++)
        out("%s\"0x%lx\"", i ? "," : "", (unsigned long)g_mmapped[i]);
    out("]},\"sizes\":[");
    for (int s = 0; s < NSIZES; s++) {
        long live = 0, freed = 0, tc = 0, fb = 0, us = 0;
        for (int t = 0; t < NTHREADS; t++) {
            live += g_truth[t].live[s]; freed += g_truth[t].freed[s];
            tc += g_truth[t].tcache[s]; fb += g_truth[t].fast[s]; us += g_truth[t].unsorted[s];
        }
        out("%s{\"request\":%zu,\"chunk_size\":%zu,\"allocated\":%ld,\"live\":%ld,\"freed\":%ld,"
            "\"tcache\":%ld,\"fastbin\":%ld,\"unsorted\":%ld,\"per_thread\":[",
            s ? "," : "", SIZES[s], chunk_of(SIZES[s]), live + freed, live, freed, tc, fb, us);
        for (int t = 0; t < NTHREADS; t++) {
            struct thread_truth *tt = &g_truth[t];
            out("%s{\"index\":%d,\"tid\":%d,\"live\":%ld,\"freed\":%ld,\"tcache\":%ld,"
                "\"fastbin\":%ld,\"unsorted\":%ld,\"first_live\":\"%s\"}",
                t ? "," : "", t, (int)tt->tid, tt->live[s], tt->freed[s], tt->tcache[s],
                tt->fast[s], tt->unsorted[s], tt->first[s]);
        }
        out("]}");
    }
    out("],\"per_thread\":[");
    for (int t = 0; t < NTHREADS; t++)
        out("%s{\"index\":%d,\"tid\":%d}", t ? "," : "", t, (int)g_truth[t].tid);
    out("]}");
    finish_and_stop();
}
