// sample_server.h - what the C++ samples that model servers (service, dbserver) share: the truth
// ledger and the parking of worker threads.
//
// Each tracked object is entered (XOR-masked, so the ledger anchors nothing) when constructed and
// marked when destroyed or deliberately leaked. At the end the program walks its real data
// structures, calling reach() for each object it can still get to; ledger_check() then demands
// that the walk and the leak sites agree exactly, and out_addresses() prints the verdicts.
// C++ only; include after sample_common.h.
#ifndef HEAPSCAN_SAMPLE_SERVER_H
#define HEAPSCAN_SAMPLE_SERVER_H

#include <errno.h>
#include <pthread.h>

#include <atomic>

enum : uint32_t { ALIVE = 0, DELETED = 1, LEAKED = 2 };

// The top 16 bits of the mask make every masked address non-canonical: never a pointer.
static const uint64_t kMask = 0xa5a5a5a5a5a5a5a5ull;

struct LedgerEntry {
    uint64_t masked;
    uint32_t type;
    uint32_t state;
};

static LedgerEntry *g_ledger;
static uint8_t *g_reached;
static size_t g_ledger_cap;
static std::atomic<size_t> g_ledger_len;

static __attribute__((noreturn)) void fail(const char *what)
{
    char msg[256];
    int n = snprintf(msg, sizeof msg, "%s: truth is inconsistent: %s\n", program_invocation_short_name, what);
    if (write(2, msg, (size_t)n) < 0) { /* nothing to do */ }
    abort();
}

static uint32_t ledger_add(const void *p, uint32_t type)
{
    size_t i = g_ledger_len.fetch_add(1);
    if (i >= g_ledger_cap)
        fail("ledger full");
    g_ledger[i] = {(uint64_t)(uintptr_t)p ^ kMask, type, ALIVE};
    return (uint32_t)i;
}

static void ledger_set(uint32_t i, uint32_t state) { g_ledger[i].state = state; }

static void *ledger_map(size_t bytes)
{
    void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        abort();
    return p;
}

// Deterministic randomness: the same seed gives the same heap on every run.
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) {}
    uint64_t next()
    {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }
    size_t length(size_t lo, size_t hi) { return lo + (size_t)below(hi - lo + 1); }
};

static void reach(uint32_t ledger, uint32_t type, const void *p)
{
    if (ledger >= g_ledger_len.load())
        fail("reached an object with no ledger entry");
    const LedgerEntry &e = g_ledger[ledger];
    if (e.type != type || (e.masked ^ kMask) != (uint64_t)(uintptr_t)p)
        fail("reached an object whose ledger entry is another object");
    if (e.state == DELETED)
        fail("reached a deleted object");
    g_reached[ledger] = 1;
}

// Every live object is either reached or leaked on purpose, never both.
static void ledger_check(void)
{
    size_t n = g_ledger_len.load();
    for (size_t i = 0; i < n; i++) {
        const LedgerEntry &e = g_ledger[i];
        if (e.state == DELETED)
            continue;
        if (g_reached[i] && e.state == LEAKED)
            fail("an object leaked on purpose is still reachable");
        if (!g_reached[i] && e.state == ALIVE)
            fail("an object no leak site dropped is unreachable");
    }
}

// Prints ["0x…", …], the addresses of type's live objects that are anchored (or leaked).
static void out_addresses(uint32_t type, bool anchored)
{
    size_t n = g_ledger_len.load();
    bool first = true;
    out("[");
    for (size_t i = 0; i < n; i++) {
        const LedgerEntry &e = g_ledger[i];
        if (e.type != type || e.state == DELETED || (g_reached[i] != 0) != anchored)
            continue;
        out("%s\"0x%llx\"", first ? "" : ",", (unsigned long long)(e.masked ^ kMask));
        first = false;
    }
    out("]");
}

// Per type: anchored, leaked and deleted objects.
struct Verdicts {
    size_t anchored, leaked, deleted;
};

static void count_verdicts(Verdicts *counts, size_t types)
{
    size_t n = g_ledger_len.load();
    for (size_t i = 0; i < n; i++) {
        const LedgerEntry &e = g_ledger[i];
        if (e.type >= types)
            fail("a ledger entry of an unknown type");
        Verdicts &v = counts[e.type];
        (e.state == DELETED ? v.deleted : g_reached[i] ? v.anchored : v.leaked)++;
    }
}

// Appends "created":…,"deleted":…,"anchored":…,"leaked":…, and both address lists.
static void out_verdicts(uint32_t type, const Verdicts &v)
{
    out("\"created\":%zu,\"deleted\":%zu,\"anchored\":%zu,\"leaked\":%zu,\"anchored_addresses\":",
        v.anchored + v.leaked + v.deleted, v.deleted, v.anchored, v.leaked);
    out_addresses(type, true);
    out(",\"leaked_addresses\":");
    out_addresses(type, false);
}

// ---- workers ------------------------------------------------------------------------------------

static pthread_mutex_t g_park = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_park_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_parked_cv = PTHREAD_COND_INITIALIZER;
static int g_parked;

// A worker that is done blocks here for good, its dead stack zeroed (no stale pointers).
static __attribute__((noinline, noreturn)) void park_worker(void)
{
    pthread_mutex_lock(&g_park);
    g_parked++;
    pthread_cond_broadcast(&g_parked_cv);
    pthread_mutex_unlock(&g_park);
    scrub_stack();
    pthread_mutex_lock(&g_park);
    for (;;)
        pthread_cond_wait(&g_park_cv, &g_park);
}

// Waits until `workers` workers are parked.
static void wait_for_parked(int workers)
{
    pthread_mutex_lock(&g_park);
    while (g_parked < workers)
        pthread_cond_wait(&g_parked_cv, &g_park);
    pthread_mutex_unlock(&g_park);
}

#endif
