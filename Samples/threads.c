/*
 * threads.c - objects allocated by several threads (several malloc arenas).
 *
 *   threads [nworkers [count]]       (defaults 4 500)
 *
 * The main thread (index 0) and nworkers worker threads (index 1..n) each
 * malloc `count` objects of 64 bytes, tagged with the 4-byte magic
 * 0x7EAD0000 + index at offset 0 (the other fields are small integers).
 * glibc gives each new thread its own arena, so the objects of different
 * threads live in different heaps.  Workers then block in pause() until the
 * process is stopped; objects stay reachable from a per-thread table in an
 * mmap()ed region.  Worker stacks are 256 KiB to keep cores small.
 */
#include "sample_common.h"  /* first: defines _GNU_SOURCE */
#include <pthread.h>

#define TAG_BASE 0x7EAD0000u
#define MAX_THREADS 64

typedef struct {
    uint32_t tag;       /* offset 0 */
    uint32_t index;
    uint64_t thread;
    uint64_t f[6];
} tobj_t;
_Static_assert(sizeof(tobj_t) == 64, "tobj_t must be 64 bytes");

struct thread_truth {
    int index;
    pid_t tid;
    char stack_address[24];
    char first[3][24];
};

static long g_count;
static struct thread_truth g_truth[MAX_THREADS];
static tobj_t **g_tables[MAX_THREADS];   /* each points into an mmap()ed table */
static pthread_barrier_t g_ready;

static __attribute__((noinline)) void populate(int index, void *stack_var)
{
    struct thread_truth *t = &g_truth[index];
    t->index = index;
    t->tid = gettid();
    addr_text(t->stack_address, sizeof t->stack_address, stack_var);
    tobj_t **table = mmap(NULL, (size_t)(g_count ? g_count : 1) * sizeof *table,
                          PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (table == MAP_FAILED) abort();
    for (long i = 0; i < g_count; i++) {
        tobj_t *o = malloc(sizeof *o);
        if (!o) abort();
        o->tag = TAG_BASE + (uint32_t)index;
        o->index = (uint32_t)i;
        o->thread = (uint64_t)index;
        for (int k = 0; k < 6; k++)
            o->f[k] = (uint64_t)i * 8 + (uint64_t)k;
        table[i] = o;
        if (i < 3)
            addr_text(t->first[i], sizeof t->first[0], o);
    }
    g_tables[index] = table;
}

static void *worker(void *arg)
{
    int index = (int)(intptr_t)arg;
    volatile int local = index;    /* its address is the "stack_address" */
    populate(index, (void *)&local);
    scrub_stack();
    pthread_barrier_wait(&g_ready);
    for (;;)
        pause();                   /* blocked, never running when stopped */
    return NULL;
}

int main(int argc, char **argv)
{
    long nworkers = arg_count(argc, argv, 1, 4, MAX_THREADS - 1);
    g_count = arg_count(argc, argv, 2, 500, 10000000);

    pthread_barrier_init(&g_ready, NULL, (unsigned)nworkers + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (long i = 1; i <= nworkers; i++) {
        pthread_t th;
        if (pthread_create(&th, &attr, worker, (void *)(intptr_t)i) != 0) abort();
    }
    volatile int local = 0;
    populate(0, (void *)&local);
    pthread_barrier_wait(&g_ready);
    scrub_stack();

    out("{\"pid\":%d,\"program\":\"threads\",\"threads\":%ld,\"object_size\":64,\"magic_offset\":0,"
        "\"per_thread\":[", (int)getpid(), nworkers + 1);
    for (long i = 0; i <= nworkers; i++) {
        struct thread_truth *t = &g_truth[i];
        out("%s{\"index\":%d,\"tid\":%d,\"magic\":\"0x7ead%04x\",\"count\":%ld,"
            "\"stack_address\":\"%s\",\"addresses\":",
            i ? "," : "", t->index, (int)t->tid, (unsigned)i, g_count, t->stack_address);
        out_text_list(t->first, (size_t)(g_count < 3 ? g_count : 3));
        out("}");
    }
    out("]}");
    finish_and_stop();
}
