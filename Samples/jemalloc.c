/*
 * jemalloc.c - jemalloc (Debian libjemalloc2 5.3.0) ground truth via mallctl.
 *
 *   jemalloc [count]          (default 100)
 *
 * Main (thread 0) and 3 workers each allocate, interleaved, `count` regions
 * of each small/medium size 24, 48, 96, 160, 2560, 12288, then count/5 of
 * 20000 bytes and 2 of 1 MiB (large), and free every 3rd small region, every
 * 4th 20000 and one 1 MiB block.  Freed regions mostly stay in the thread's
 * tcache (and count as allocated in jemalloc's arena statistics).  Every
 * live region starts with the 8-byte tag 0x4A454D0000000000 + size, followed
 * by (thread << 32 | index); the tag is cleared before a region is freed, so
 * each tag occurs exactly `live` times.  Workers block in pause() so their
 * tcaches are not flushed.
 *
 * After everything, main writes "epoch" and reads jemalloc's own statistics
 * with mallctl: per arena and merged (MALLCTL_ARENAS_ALL), bins with nonzero
 * curregs/curslabs and large extents with nonzero curlextents, plus the
 * global stats.*.  Output goes through a non-heap buffer (sample_common.h).
 */
#include "sample_common.h"   /* first: defines _GNU_SOURCE */
#include <jemalloc/jemalloc.h>
#include <pthread.h>

#define NTHREADS 4
#define NSIZES 8
#define TAG(size) (0x4A454D0000000000ull + (uint64_t)(size))
/* The truth spells tags out as "0x4a454d" + 10 hex digits of the size, never
 * formatting the binary tag: a printf argument could stay behind on the stack. */

static const size_t SIZES[NSIZES] = { 24, 48, 96, 160, 2560, 12288, 20000, 1048576 };

struct thread_truth {
    pid_t tid;
    unsigned arena;
    long allocated[NSIZES], live[NSIZES], freed[NSIZES];
    char first[NSIZES][24];
};

static long g_count;
static struct thread_truth g_truth[NTHREADS];
static void **g_tables[NTHREADS];   /* mmap()ed */
static pthread_barrier_t g_done;

static long count_for(int s)
{
    if (SIZES[s] == 1048576) return 2;
    if (SIZES[s] == 20000) return g_count / 5;
    return g_count;
}

static int freed_index(int s, long i)
{
    if (SIZES[s] == 1048576) return i == 0;
    if (SIZES[s] == 20000) return i % 4 == 1;
    return i % 3 == 2;
}

static __attribute__((noinline)) void work(int t)
{
    struct thread_truth *tt = &g_truth[t];
    tt->tid = gettid();
    long per = g_count > 2 ? g_count : 2;
    void **tab = mmap(NULL, (size_t)(NSIZES * per) * sizeof *tab, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (tab == MAP_FAILED) abort();
    g_tables[t] = tab;

    for (long i = 0; i < per; i++)
        for (int s = 0; s < NSIZES; s++) {
            if (i >= count_for(s)) continue;
            uint64_t *p = malloc(SIZES[s]);
            if (!p) abort();
            p[0] = TAG(SIZES[s]);
            p[1] = ((uint64_t)t << 32) | (uint64_t)i;
            tab[s * per + i] = p;
            tt->allocated[s]++;
        }
    for (int s = 0; s < NSIZES; s++)
        for (long i = 0; i < count_for(s); i++) {
            uint64_t *p = tab[s * per + i];
            if (freed_index(s, i)) {
                explicit_bzero(p, 8);   /* tag counts only live regions (a plain store before free() is optimised away) */
                free(p);
                tab[s * per + i] = NULL;
                tt->freed[s]++;
            } else {
                if (tt->live[s] == 0)
                    addr_text(tt->first[s], sizeof tt->first[0], p);
                tt->live[s]++;
            }
        }
    size_t len = sizeof tt->arena;
    if (mallctl("thread.arena", &tt->arena, &len, NULL, 0) != 0)
        tt->arena = (unsigned)-1;
}

static void *worker(void *arg)
{
    work((int)(intptr_t)arg);
    scrub_stack();
    pthread_barrier_wait(&g_done);
    for (;;)
        pause();
    return NULL;
}

/* mallctl read by printf-formatted name; returns 0 on success. */
static int vctl(void *val, size_t len, const char *fmt, va_list ap)
{
    char name[128];
    vsnprintf(name, sizeof name, fmt, ap);
    size_t l = len;
    return mallctl(name, val, &l, NULL, 0);
}

static __attribute__((format(printf, 3, 4))) int ctl(void *val, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vctl(val, len, fmt, ap);
    va_end(ap);
    return rc;
}

/* A size_t statistic, 0 if jemalloc does not know the name. */
static __attribute__((format(printf, 1, 2))) size_t ctl_size(const char *fmt, ...)
{
    size_t v = 0;
    va_list ap;
    va_start(ap, fmt);
    if (vctl(&v, sizeof v, fmt, ap) != 0) v = 0;
    va_end(ap);
    return v;
}

/* Bins and large extents of arena `a` (or MALLCTL_ARENAS_ALL) with data. */
static void out_arena_stats(unsigned a, unsigned nbins, unsigned nlextents)
{
    size_t tcache_bytes = 0;
    unsigned nthreads = 0;
    ctl(&tcache_bytes, sizeof tcache_bytes, "stats.arenas.%u.tcache_bytes", a);
    ctl(&nthreads, sizeof nthreads, "stats.arenas.%u.nthreads", a);
    out("\"nthreads\":%u,\"tcache_bytes\":%zu,\"bins\":[", nthreads, tcache_bytes);
    int first = 1;
    for (unsigned j = 0; j < nbins; j++) {
        size_t regs = ctl_size("stats.arenas.%u.bins.%u.curregs", a, j);
        size_t slabs = ctl_size("stats.arenas.%u.bins.%u.curslabs", a, j);
        if (!regs && !slabs) continue;
        size_t size = ctl_size("arenas.bin.%u.size", j);
        uint32_t nregs = 0;
        ctl(&nregs, sizeof nregs, "arenas.bin.%u.nregs", j);
        out("%s{\"bin\":%u,\"size\":%zu,\"nregs\":%u,\"curregs\":%zu,\"curslabs\":%zu}",
            first ? "" : ",", j, size, nregs, regs, slabs);
        first = 0;
    }
    out("],\"lextents\":[");
    first = 1;
    for (unsigned j = 0; j < nlextents; j++) {
        size_t n = ctl_size("stats.arenas.%u.lextents.%u.curlextents", a, j);
        if (!n) continue;
        out("%s{\"lextent\":%u,\"size\":%zu,\"curlextents\":%zu}", first ? "" : ",", j,
            ctl_size("arenas.lextent.%u.size", j), n);
        first = 0;
    }
    out("]");
}

int main(int argc, char **argv)
{
    g_count = arg_count(argc, argv, 1, 100, 10000000);

    uint64_t epoch = 1;
    size_t elen = sizeof epoch;
    mallctl("epoch", &epoch, &elen, &epoch, elen);   /* initialise mallctl's state early */

    pthread_barrier_init(&g_done, NULL, NTHREADS);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (long i = 1; i < NTHREADS; i++) {
        pthread_t th;
        if (pthread_create(&th, &attr, worker, (void *)(intptr_t)i) != 0) abort();
    }
    work(0);
    pthread_barrier_wait(&g_done);
    scrub_stack();

    mallctl("epoch", &epoch, &elen, &epoch, elen);   /* refresh the statistics */
    bool stats = false;
    ctl(&stats, sizeof stats, "config.stats");
    unsigned narenas = 0, nbins = 0, nlextents = 0;
    ctl(&narenas, sizeof narenas, "arenas.narenas");
    ctl(&nbins, sizeof nbins, "arenas.nbins");
    ctl(&nlextents, sizeof nlextents, "arenas.nlextents");
    size_t tcache_max = 0;
    ctl(&tcache_max, sizeof tcache_max, "arenas.tcache_max");
    const char *version = "";
    ctl(&version, sizeof version, "version");

    out("{\"pid\":%d,\"program\":\"jemalloc\",\"threads\":%d,\"count\":%ld,"
        "\"jemalloc_version\":\"%s\",\"config_stats\":%s,\"narenas\":%u,\"nbins\":%u,"
        "\"nlextents\":%u,\"tcache_max\":%zu,",
        (int)getpid(), NTHREADS, g_count, version, stats ? "true" : "false", narenas, nbins,
        nlextents, tcache_max);
    out("\"stats\":{\"allocated\":%zu,\"active\":%zu,\"metadata\":%zu,\"resident\":%zu,"
        "\"mapped\":%zu,\"retained\":%zu},",
        ctl_size("stats.allocated"), ctl_size("stats.active"),
        ctl_size("stats.metadata"), ctl_size("stats.resident"),
        ctl_size("stats.mapped"), ctl_size("stats.retained"));

    /* Every size class jemalloc uses, so its size-class computation can be checked whole. */
    out("\"bin_classes\":[");
    for (unsigned j = 0; j < nbins; j++) {
        uint32_t nregs = 0;
        ctl(&nregs, sizeof nregs, "arenas.bin.%u.nregs", j);
        out("%s{\"bin\":%u,\"size\":%zu,\"nregs\":%u,\"slab_size\":%zu}", j ? "," : "", j,
            ctl_size("arenas.bin.%u.size", j), nregs, ctl_size("arenas.bin.%u.slab_size", j));
    }
    out("],\"lextent_sizes\":[");
    for (unsigned j = 0; j < nlextents; j++)
        out("%s%zu", j ? "," : "", ctl_size("arenas.lextent.%u.size", j));
    out("],");
    out("\"planted\":[");
    for (int s = 0; s < NSIZES; s++) {
        long live = 0, freed = 0;
        for (int t = 0; t < NTHREADS; t++) {
            live += g_truth[t].live[s];
            freed += g_truth[t].freed[s];
        }
        out("%s{\"request\":%zu,\"size_class\":%zu,\"tag\":\"0x4a454d%010zx\",\"allocated\":%ld,"
            "\"live\":%ld,\"freed\":%ld,\"per_thread\":[",
            s ? "," : "", SIZES[s], nallocx(SIZES[s], 0), SIZES[s],
            live + freed, live, freed);
        for (int t = 0; t < NTHREADS; t++)
            out("%s{\"index\":%d,\"arena\":%u,\"live\":%ld,\"freed\":%ld,\"first_live\":\"%s\"}",
                t ? "," : "", t, g_truth[t].arena, g_truth[t].live[s], g_truth[t].freed[s],
                g_truth[t].first[s]);
        out("]}");
    }
    out("],\"per_thread\":[");
    for (int t = 0; t < NTHREADS; t++)
        out("%s{\"index\":%d,\"tid\":%d,\"arena\":%u}", t ? "," : "", t, (int)g_truth[t].tid,
            g_truth[t].arena);
    out("],\"arenas\":[");
    int first = 1;
    for (unsigned a = 0; a < narenas; a++) {
        bool init = false;
        if (ctl(&init, sizeof init, "arena.%u.initialized", a) != 0 || !init) continue;
        out("%s{\"index\":%u,", first ? "" : ",", a);
        out_arena_stats(a, nbins, nlextents);
        out("}");
        first = 0;
    }
    out("],\"merged\":{");
    out_arena_stats(MALLCTL_ARENAS_ALL, nbins, nlextents);
    out("}}");
    finish_and_stop();
}
