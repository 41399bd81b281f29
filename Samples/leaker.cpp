// leaker.cpp - ground truth for the leak classifier.
//
//   leaker [rounds]          (default 1)
//
// Three object types:
//   Session     polymorphic C++ class, 96 bytes
//   CacheEntry  polymorphic C++ class, 64 bytes
//   msg_t       C struct, 40 bytes, 4-byte magic 0xC0FFEE11 at offset 0
// For each type a fixed number of objects is ANCHORED, in three ways:
//   global  pointer in a global array (.bss)
//   stack   pointer only in a local array on a worker thread's stack (the
//           thread blocks in pause(); its objects come from its own arena)
//   chain   pointer only in a node of a heap linked list (Node, 24 bytes,
//           malloc'd) whose head pointer is a global: reachable only
//           through other heap objects
// and every round LEAKS a fixed number more: the pointer is dropped and no
// copy of it is left in memory (objects are made by noinline functions,
// leaked addresses are recorded as text only, and the dead stack is
// scrubbed).  rounds=3 therefore has exactly 2 x leaked_per_round more
// leaked objects than rounds=1; anchored counts do not depend on rounds.
// Object fields hold small integers only (no pointers), nothing is freed.
#include <pthread.h>

#include "sample_common.h"

#define MSG_MAGIC 0xC0FFEE11u

struct Session {
    virtual ~Session();
    virtual long user() const;
    long f[11] = {};
};
struct CacheEntry {
    virtual ~CacheEntry();
    virtual long key() const;
    long f[7] = {};
};
Session::~Session() {}
long Session::user() const { return f[0]; }
CacheEntry::~CacheEntry() {}
long CacheEntry::key() const { return f[0]; }

struct msg_t {
    uint32_t magic;   // offset 0
    uint32_t id;
    uint64_t a, b, c, d;
};

static_assert(sizeof(Session) == 96, "Session must be 96 bytes");
static_assert(sizeof(CacheEntry) == 64, "CacheEntry must be 64 bytes");
static_assert(sizeof(msg_t) == 40, "msg_t must be 40 bytes");

// Heap list node for the "chain" anchors.
struct Node {
    Node *next;
    void *obj;
    long index;
};

enum { SESSION, CACHE, MSG, NTYPES };

struct TypeTruth {
    const char *name;
    size_t size;
    long leak_per_round, n_global, n_stack, n_chain;
    long leaked;
    char vtable[24];
    char ex_leaked[24], ex_global[24], ex_stack[24], ex_chain[24];
};

static TypeTruth g_t[NTYPES] = {
    {"Session", sizeof(Session), 40, 10, 5, 15, 0, {}, {}, {}, {}, {}},
    {"CacheEntry", sizeof(CacheEntry), 100, 20, 7, 25, 0, {}, {}, {}, {}, {}},
    {"msg_t", sizeof(msg_t), 250, 30, 9, 35, 0, {}, {}, {}, {}, {}},
};

#define MAX_ANCHORED 64
void *g_global_anchors[NTYPES][MAX_ANCHORED];   // the "global" roots (.bss)
Node *g_chain_heads[NTYPES];                    // the "chain" roots
static pid_t g_stack_tid;
static char g_stack_array[24];
static pthread_barrier_t g_ready;

static __attribute__((noinline)) void *make(int type, long i)
{
    switch (type) {
    case SESSION: {
        Session *s = new Session;
        for (int k = 0; k < 11; k++) s->f[k] = i * 16 + k;
        return s;
    }
    case CACHE: {
        CacheEntry *c = new CacheEntry;
        for (int k = 0; k < 7; k++) c->f[k] = i * 8 + k;
        return c;
    }
    default: {
        msg_t *m = (msg_t *)malloc(sizeof(msg_t));
        if (!m) abort();
        m->magic = MSG_MAGIC;
        m->id = (uint32_t)i;
        m->a = (uint64_t)i; m->b = 1; m->c = 2; m->d = 3;
        return m;
    }
    }
}

// Makes one object and forgets it; only its address text survives.
static __attribute__((noinline)) void leak_one(int type, long i)
{
    void *p = make(type, i);
    TypeTruth &t = g_t[type];
    if (t.leaked == 0)
        addr_text(t.ex_leaked, sizeof t.ex_leaked, p);
    if (type != MSG && t.vtable[0] == '\0') {
        uintptr_t v;
        memcpy(&v, p, sizeof v);
        addr_text(t.vtable, sizeof t.vtable, (void *)v);
    }
    t.leaked++;
}

static __attribute__((noinline)) void anchor_global(int type, long i)
{
    void *p = make(type, 1000000 + i);
    if (i == 0)
        addr_text(g_t[type].ex_global, sizeof g_t[type].ex_global, p);
    g_global_anchors[type][i] = p;
}

static __attribute__((noinline)) void anchor_chain(int type, long i)
{
    Node *n = (Node *)malloc(sizeof(Node));
    if (!n) abort();
    n->obj = make(type, 2000000 + i);
    n->index = i;
    n->next = g_chain_heads[type];
    g_chain_heads[type] = n;
    if (i == 0)
        addr_text(g_t[type].ex_chain, sizeof g_t[type].ex_chain, n->obj);
}

// The "stack" anchors: a local array of pointers, kept live while blocked.
static void *stack_worker(void *)
{
    void *local[NTYPES][MAX_ANCHORED] = {};
    for (int type = 0; type < NTYPES; type++)
        for (long i = 0; i < g_t[type].n_stack; i++) {
            local[type][i] = make(type, 3000000 + i);
            if (i == 0)
                addr_text(g_t[type].ex_stack, sizeof g_t[type].ex_stack, local[type][i]);
        }
    g_stack_tid = gettid();
    addr_text(g_stack_array, sizeof g_stack_array, local);
    scrub_stack();
    pthread_barrier_wait(&g_ready);
    for (;;) {
        __asm__ volatile("" : : "r"(local) : "memory");   // keep `local` alive
        pause();
    }
    return nullptr;
}

static __attribute__((noinline)) void build(long rounds)
{
    // Anchored objects and the first round of leaks, interleaved.
    long most = 0;
    for (TypeTruth &t : g_t) {
        most = t.n_global > most ? t.n_global : most;
        most = t.n_chain > most ? t.n_chain : most;
    }
    for (long r = 0; r < rounds; r++) {
        long n = 0;
        for (TypeTruth &t : g_t)
            n = t.leak_per_round > n ? t.leak_per_round : n;
        for (long i = 0; i < n || (r == 0 && i < most); i++)
            for (int type = 0; type < NTYPES; type++) {
                TypeTruth &t = g_t[type];
                if (i < t.leak_per_round) leak_one(type, r * 100000 + i);
                if (r == 0 && i < t.n_global) anchor_global(type, i);
                if (r == 0 && i < t.n_chain) anchor_chain(type, i);
            }
    }
}

int main(int argc, char **argv)
{
    long rounds = arg_count(argc, argv, 1, 1, 100000);
    if (rounds < 1) {
        fprintf(stderr, "leaker: rounds must be >= 1\n");
        return 2;
    }
    for (TypeTruth &t : g_t)
        if (t.n_global > MAX_ANCHORED || t.n_stack > MAX_ANCHORED) abort();

    pthread_barrier_init(&g_ready, nullptr, 2);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t th;
    if (pthread_create(&th, &attr, stack_worker, nullptr) != 0) abort();
    pthread_barrier_wait(&g_ready);   // worker's objects exist

    build(rounds);
    scrub_stack();

    char heads[NTYPES][24], globals[NTYPES][24];
    for (int type = 0; type < NTYPES; type++) {
        addr_text(heads[type], sizeof heads[0], &g_chain_heads[type]);
        addr_text(globals[type], sizeof globals[0], g_global_anchors[type]);
    }
    out("{\"pid\":%d,\"program\":\"leaker\",\"threads\":2,\"rounds\":%ld,"
        "\"stack_thread_tid\":%d,\"stack_array\":\"%s\",\"chain_node_size\":%zu,\"types\":[",
        (int)getpid(), rounds, (int)g_stack_tid, g_stack_array, sizeof(Node));
    for (int type = 0; type < NTYPES; type++) {
        TypeTruth &t = g_t[type];
        out("%s{\"name\":\"%s\",", type ? "," : "", t.name);
        if (type == MSG)
            out("\"kind\":\"magic\",\"value\":\"0xc0ffee11\",\"width\":4,\"offset\":0,");
        else
            out("\"kind\":\"vtable\",\"mangled_vtable\":\"_ZTV%zu%s\",\"vtable\":\"%s\",",
                strlen(t.name), t.name, t.vtable);
        long anchored = t.n_global + t.n_stack + t.n_chain;
        out("\"object_size\":%zu,\"leaked_per_round\":%ld,\"leaked\":%ld,"
            "\"anchored_global\":%ld,\"anchored_stack\":%ld,\"anchored_chain\":%ld,"
            "\"anchored\":%ld,\"total\":%ld,"
            "\"example_leaked\":\"%s\",\"example_anchored_global\":\"%s\","
            "\"example_anchored_stack\":\"%s\",\"example_anchored_chain\":\"%s\","
            "\"global_array\":\"%s\",\"chain_head\":\"%s\"}",
            t.size, t.leak_per_round, t.leaked, t.n_global, t.n_stack, t.n_chain,
            anchored, t.leaked + anchored, t.ex_leaked, t.ex_global, t.ex_stack, t.ex_chain,
            globals[type], heads[type]);
    }
    out("]}");
    finish_and_stop();
}
