/*
 * jemalloc-prof.c - jemalloc heap profiling truth: call sites with known fates, and
 * jemalloc's own prof.dump written at the moment the program stops.
 *
 *   jemalloc-prof LG_SAMPLE [count]     (count default 50)
 *
 * Must run with MALLOC_CONF=prof:true,lg_prof_sample:LG_SAMPLE (make-core sets it); the
 * program checks that jemalloc agrees.  Call sites, each its own function so each has its own
 * backtrace:
 *   leak_site     count x 40 bytes, pointers dropped (leaked)
 *   global_site   count x 100 bytes, kept in a global array (anchored)
 *   temp_site     count x 72 bytes, all freed
 *   big_site      3 x 40000 bytes (large class), kept in a global array
 *   thread_site   count x 200 bytes allocated by a second thread, kept in a global array
 * Every object starts with the tag 0x50524F4600000000 + site number.
 *
 * At its stop the program calls mallctl("prof.dump") with the path in HEAPSCAN_PROF_DUMP (the
 * heap_v2 text jeprof reads), then prints the truth: per site, the live and leaked counts,
 * requested size and the addresses of leaked objects as text.
 */
#include "sample_common.h"   /* first: defines _GNU_SOURCE */
#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdbool.h>

#define TAG(site) (0x50524F4600000000ull + (uint64_t)(site))
#define MAX_COUNT 10000
#define BIG_COUNT 3

enum { LEAK, GLOBAL, TEMP, BIG, THREAD, NSITES };
static const char *const SITE_NAMES[NSITES] = { "leak_site", "global_site", "temp_site", "big_site", "thread_site" };
static const size_t SITE_SIZES[NSITES] = { 40, 100, 72, 40000, 200 };

static long g_count;
static long g_live[NSITES], g_leaked[NSITES];
/* Not static: stores to arrays nothing in the file reads would be optimised away. */
void *g_global[MAX_COUNT];
void *g_big[BIG_COUNT];
void *g_thread_objects[MAX_COUNT];
static char g_leaked_text[MAX_COUNT][24];
static pthread_barrier_t g_done;

static void *tagged(size_t size, int site)
{
    uint64_t *p = malloc(size);
    if (!p) abort();
    p[0] = TAG(site);
    return p;
}

static __attribute__((noinline)) void leak_site(void)
{
    for (long i = 0; i < g_count; i++) {
        void *p = tagged(SITE_SIZES[LEAK], LEAK);
        addr_text(g_leaked_text[i], sizeof g_leaked_text[0], p);
        __asm__ volatile("" : : "r"(p) : "memory");
    }
    g_live[LEAK] = g_leaked[LEAK] = g_count;
}

static __attribute__((noinline)) void global_site(void)
{
    for (long i = 0; i < g_count; i++)
        g_global[i] = tagged(SITE_SIZES[GLOBAL], GLOBAL);
    g_live[GLOBAL] = g_count;
}

static __attribute__((noinline)) void temp_site(void)
{
    for (long i = 0; i < g_count; i++) {
        uint64_t *p = tagged(SITE_SIZES[TEMP], TEMP);
        explicit_bzero(p, 8);
        free(p);
    }
}

static __attribute__((noinline)) void big_site(void)
{
    for (int i = 0; i < BIG_COUNT; i++)
        g_big[i] = tagged(SITE_SIZES[BIG], BIG);
    g_live[BIG] = BIG_COUNT;
}

static __attribute__((noinline)) void thread_site(void)
{
    for (long i = 0; i < g_count; i++)
        g_thread_objects[i] = tagged(SITE_SIZES[THREAD], THREAD);
    g_live[THREAD] = g_count;
}

static void *worker(void *arg)
{
    (void)arg;
    thread_site();
    scrub_stack();
    pthread_barrier_wait(&g_done);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    long lg_sample = arg_count(argc, argv, 1, 0, 62);
    g_count = arg_count(argc, argv, 2, 50, MAX_COUNT);

    {
        bool prof = false;
        size_t len = sizeof prof;
        if (mallctl("opt.prof", &prof, &len, NULL, 0) != 0 || !prof) {
            static const char msg[] = "jemalloc-prof: run with MALLOC_CONF=prof:true (jemalloc built with profiling)\n";
            if (write(2, msg, sizeof msg - 1) < 0) { /* nothing to do */ }
            return 1;
        }
        size_t lg = 0;
        len = sizeof lg;
        if (mallctl("opt.lg_prof_sample", &lg, &len, NULL, 0) != 0 || (long)lg != lg_sample) {
            static const char msg[] = "jemalloc-prof: MALLOC_CONF's lg_prof_sample differs from the argument\n";
            if (write(2, msg, sizeof msg - 1) < 0) { /* nothing to do */ }
            return 1;
        }
    }

    pthread_barrier_init(&g_done, NULL, 2);
    pthread_t thread;
    if (pthread_create(&thread, NULL, worker, NULL) != 0) abort();
    pthread_barrier_wait(&g_done);

    leak_site();
    global_site();
    temp_site();
    big_site();
    scrub_stack();

    const char *dump = getenv("HEAPSCAN_PROF_DUMP");
    int dumped = 0;
    if (dump && *dump)
        dumped = mallctl("prof.dump", NULL, NULL, (void *)&dump, sizeof dump) == 0;

    out("{\"sample\":\"jemalloc-prof\",\"pid\":%d,\"lg_prof_sample\":%ld,\"count\":%ld,\"prof_dump\":%s,\"sites\":[",
        (int)getpid(), lg_sample, g_count, dumped ? "true" : "false");
    for (int s = 0; s < NSITES; s++) {
        out("%s{\"function\":\"%s\",\"size\":%zu,\"tag\":\"0x50524f46%08x\",\"live\":%ld,\"leaked\":%ld,\"leaked_addresses\":",
            s ? "," : "", SITE_NAMES[s], SITE_SIZES[s], s, g_live[s], g_leaked[s]);
        out_text_list(g_leaked_text, s == LEAK ? (size_t)g_leaked[LEAK] : 0);
        out("}");
    }
    out("]}");
    finish_and_stop();
}
