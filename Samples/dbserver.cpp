// dbserver.cpp - a database server's heap in miniature: C++ objects behind a MySQL-style
// allocator header, worker threads, and one planted leak.
//
//   dbserver [scale [seed]]     (defaults 1 and 1; scale 1 is 1600 queries per worker)
//
// Like MySQL's my_malloc (mysys/my_malloc.cc with performance-schema memory instrumentation),
// my_malloc() puts a 24-byte header {m_key, m_magic, m_size, m_owner} before each block it hands
// out, so a polymorphic object allocated through it has its vptr at +24 of the malloc chunk, not
// at +0. THD, the handlers (ha_innobase, ha_maria, ha_heap), TABLE and the Items are allocated that
// way (class-level operator new, as MySQL's Sql_alloc does); Vio, the connection, is allocated
// with plain new (vptr at +0), and query texts are my_malloc'd character buffers.
//
// 4 workers each serve 8 connections (a THD and a Vio each) in turn: items of each query are linked on the THD's
// free_list and freed after the query (the last query's stay); tables are opened into the THD's
// handler cache and sometimes closed; a query that needs a temporary table opens an ha_maria for
// it, keeps a few in the THD's temp-table list, and on the error path (planted) returns without
// closing it: the only pointer was a local, so the ha_maria is leaked. Nothing else is leaked.
//
// Truth (sample_server.h): each object is entered in a ledger when constructed and marked when
// destroyed or leaked. At the end main walks every THD from the global array: an
// object reached is anchored, a live one not reached is leaked, and the walk must agree with the
// leak site exactly (else the sample aborts). The JSON lists per class its offset in the malloc
// chunk, counts, and every object address (the vptr's address; the chunk starts `offset` earlier).
#include <pthread.h>

#include <cstddef>
#include <new>

#include "sample_common.h"
#include "sample_server.h"

// ---- the allocator wrapper ----------------------------------------------------------------------

enum : uint32_t { KEY_THD = 1, KEY_HANDLER, KEY_TABLE, KEY_ITEM, KEY_QUERY, KEY_PSI };
static const uint32_t kHeaderMagic = 1234;   // MySQL's PFS_MEMORY_MAGIC... value

struct my_memory_header {
    uint32_t m_key;
    uint32_t m_magic;
    size_t m_size;
    void *m_owner;
};
static_assert(sizeof(my_memory_header) == 24, "the header is 24 bytes, as in MySQL");

struct PSI_thread {
    uint64_t thread_id;
    uint64_t allocated;
    char name[32];
};
static thread_local PSI_thread *t_psi;

static void *my_malloc(uint32_t key, size_t size)
{
    auto *header = static_cast<my_memory_header *>(malloc(sizeof(my_memory_header) + size));
    if (!header)
        abort();
    header->m_key = key;
    header->m_magic = kHeaderMagic;
    header->m_size = size;
    header->m_owner = t_psi;
    if (t_psi)
        t_psi->allocated += size;
    return header + 1;
}

static void my_free(void *p)
{
    if (!p)
        return;
    auto *header = static_cast<my_memory_header *>(p) - 1;
    if (header->m_magic != kHeaderMagic)
        abort();
    header->m_magic = 0;
    free(header);
}

enum ClassId { C_THD, C_INNOBASE, C_MARIA, C_HEAP, C_ITEM_INT, C_ITEM_STRING, C_ITEM_FUNC_EQ, C_VIO, NCLASSES };

// ---- the server's classes -------------------------------------------------------------------------

// Class-level allocation through my_malloc, as MySQL's Sql_alloc / ilink.
template <uint32_t Key>
struct Instrumented {
    static void *operator new(size_t size) { return my_malloc(Key, size); }
    static void operator delete(void *p) { my_free(p); }
};

// Tracked: enters the ledger on construction, leaves it on destruction.
struct Tracked {
    explicit Tracked(const void *self, ClassId type) : ledger(ledger_add(self, type)) {}
    ~Tracked() { ledger_set(ledger, DELETED); }
    uint32_t ledger;
};

struct TABLE : Instrumented<KEY_TABLE> {
    uint32_t table_id;
    uint32_t record_length;
    char alias[48];
    uint64_t rows_read;
};

class handler : public Instrumented<KEY_HANDLER> {
public:
    handler(TABLE *table, ClassId type) : table(table), track(this, type) {}
    virtual ~handler() {}
    virtual int rnd_next(uint64_t row) = 0;
    virtual ClassId id() const = 0;
    TABLE *table;
    uint64_t rows = 0;
    handler *next_in_cache = nullptr;
    Tracked track;
};

class ha_innobase final : public handler {
public:
    explicit ha_innobase(TABLE *table) : handler(table, C_INNOBASE) {}
    int rnd_next(uint64_t row) override { rows += row; return (int)(rows & 1); }
    ClassId id() const override { return C_INNOBASE; }
    uint64_t prebuilt[24] = {};
    char upd_buf[96] = {};
};

class ha_maria final : public handler {
public:
    explicit ha_maria(TABLE *table) : handler(table, C_MARIA) {}
    int rnd_next(uint64_t row) override { rows += row * 2; return (int)(rows & 3); }
    ClassId id() const override { return C_MARIA; }
    uint64_t info[40] = {};
    char key_buf[200] = {};
    ha_maria *next_tmp = nullptr;
};

class ha_heap final : public handler {
public:
    explicit ha_heap(TABLE *table) : handler(table, C_HEAP) {}
    int rnd_next(uint64_t row) override { rows += row * 3; return 0; }
    ClassId id() const override { return C_HEAP; }
    uint64_t records = 0;
    uint32_t key_stat[8] = {};
};

class Item : public Instrumented<KEY_ITEM> {
public:
    explicit Item(ClassId type) : track(this, type) {}
    virtual ~Item() {}
    virtual int64_t val_int() = 0;
    virtual ClassId id() const = 0;
    Item *next = nullptr;   // the THD's free_list, as in MySQL
    Tracked track;
};

class Item_int final : public Item {
public:
    explicit Item_int(int64_t value) : Item(C_ITEM_INT), value(value) {}
    int64_t val_int() override { return value; }
    ClassId id() const override { return C_ITEM_INT; }
    int64_t value;
    uint32_t max_length = 21;
};

class Item_func_eq final : public Item {
public:
    Item_func_eq(Item *a, Item *b) : Item(C_ITEM_FUNC_EQ), args{a, b} {}
    int64_t val_int() override { return args[0]->val_int() == args[1]->val_int(); }
    ClassId id() const override { return C_ITEM_FUNC_EQ; }
    Item *args[2];
};

class Item_string final : public Item {
public:
    Item_string(const char *text, size_t length) : Item(C_ITEM_STRING), length((uint32_t)length)
    {
        memcpy(str, text, length < sizeof str ? length : sizeof str);
    }
    int64_t val_int() override { return (int64_t)length; }
    ClassId id() const override { return C_ITEM_STRING; }
    uint32_t length;
    char str[40] = {};
};

// The connection: plain new, so its vptr is at +0 of its chunk.
class Vio {
public:
    explicit Vio(int fd) : fd(fd), track(this, C_VIO) {}
    virtual ~Vio() {}
    virtual ssize_t read_packet(uint64_t n) { return (ssize_t)(bytes_read += n); }
    int fd;
    uint64_t bytes_read = 0;
    Tracked track;
};

enum { kWorkers = 4, kConnections = 8, kTables = 12, kHistory = 8, kTmpKept = 4 };

class THD : public Instrumented<KEY_THD> {
public:
    explicit THD(uint64_t id) : thread_id(id), track(this, C_THD) {}
    virtual ~THD() {}
    virtual bool store_globals() { return true; }
    uint64_t thread_id;
    Vio *net = nullptr;
    Item *free_list = nullptr;
    handler *open_tables[kTables] = {};
    ha_maria *tmp_tables = nullptr;
    uint32_t tmp_count = 0;
    char *query_history[kHistory] = {};
    uint64_t queries = 0;
    char status[512] = {};
    Tracked track;
};

static THD *g_thds[kWorkers][kConnections];
static TABLE *g_tables[kWorkers][kTables];
static TABLE *g_tmp_share[kWorkers];
static PSI_thread *g_psi[kWorkers];
static long g_queries_per_worker;
static uint64_t g_seed;

// ---- one worker -----------------------------------------------------------------------------------

static void free_items(THD *thd)
{
    for (Item *item = thd->free_list; item;) {
        Item *next = item->next;
        delete item;
        item = next;
    }
    thd->free_list = nullptr;
}

static Item *add_item(THD *thd, Item *item)
{
    item->next = thd->free_list;
    thd->free_list = item;
    return item;
}

static __attribute__((noinline)) void parse(THD *thd, Rng &rng)
{
    int conditions = 1 + (int)rng.below(5);
    for (int c = 0; c < conditions; c++) {
        Item *left = add_item(thd, new Item_int((int64_t)rng.below(1000)));
        Item *right = rng.below(2) ? add_item(thd, new Item_int((int64_t)rng.below(1000)))
                                   : add_item(thd, new Item_string("abcdefghijklmnopqrstuvwxyz", 4 + rng.below(20)));
        add_item(thd, new Item_func_eq(left, right));
    }
}

static handler *open_table(THD *thd, int w, uint32_t table)
{
    if (!thd->open_tables[table]) {
        TABLE *t = g_tables[w][table];
        if (table % 4 == 3)
            thd->open_tables[table] = new ha_heap(t);
        else
            thd->open_tables[table] = new ha_innobase(t);
    }
    return thd->open_tables[table];
}

// A query needing an internal temporary table: kept in the THD's list, or closed; on the planted
// error path it returns early and the handler is never closed.
static __attribute__((noinline)) void with_tmp_table(THD *thd, int w, Rng &rng, bool error_path)
{
    ha_maria *tmp = new ha_maria(g_tmp_share[w]);
    tmp->rnd_next(rng.below(100));
    if (error_path) {
        ledger_set(tmp->track.ledger, LEAKED);
        return;
    }
    if (thd->tmp_count < kTmpKept) {
        tmp->next_tmp = thd->tmp_tables;
        thd->tmp_tables = tmp;
        thd->tmp_count++;
    } else {
        delete tmp;
    }
}

static __attribute__((noinline)) void run_query(THD *thd, int w, Rng &rng, long q)
{
    free_items(thd);
    size_t length = 16 + rng.below(200);
    char *query = static_cast<char *>(my_malloc(KEY_QUERY, length + 1));
    for (size_t i = 0; i < length; i++)
        query[i] = (char)('a' + rng.below(26));
    query[length] = '\0';
    size_t slot = (size_t)(q % kHistory);
    my_free(thd->query_history[slot]);
    thd->query_history[slot] = query;

    parse(thd, rng);
    uint32_t table = (uint32_t)rng.below(kTables);
    handler *h = open_table(thd, w, table);
    h->rnd_next(rng.below(1000));
    for (Item *item = thd->free_list; item; item = item->next)
        thd->queries += (uint64_t)item->val_int();
    if (rng.below(10) == 0) {   // FLUSH TABLES: close a handler
        uint32_t victim = (uint32_t)rng.below(kTables);
        delete thd->open_tables[victim];
        thd->open_tables[victim] = nullptr;
    }
    if (q % 5 == 0)
        with_tmp_table(thd, w, rng, q % 15 == 5);
    thd->queries++;
}


static __attribute__((noinline)) void serve(int w)
{
    PSI_thread *psi = static_cast<PSI_thread *>(calloc(1, sizeof(PSI_thread)));
    if (!psi)
        abort();
    psi->thread_id = (uint64_t)w + 1;
    snprintf(psi->name, sizeof psi->name, "thread/sql/one_connection");
    g_psi[w] = psi;
    t_psi = psi;
    for (int t = 0; t < kTables; t++) {
        TABLE *table = new TABLE();
        table->table_id = (uint32_t)t;
        table->record_length = 64 + 8 * (uint32_t)t;
        snprintf(table->alias, sizeof table->alias, "t%d", t);
        g_tables[w][t] = table;
    }
    g_tmp_share[w] = new TABLE();
    for (int c = 0; c < kConnections; c++) {
        THD *thd = new THD((uint64_t)(w * kConnections + c) + 1);
        thd->net = new Vio(100 + w * kConnections + c);
        g_thds[w][c] = thd;
    }
    Rng rng(g_seed * 131 + (uint64_t)w);
    for (long q = 0; q < g_queries_per_worker; q++)
        run_query(g_thds[w][q % kConnections], w, rng, q / kConnections);
}

static void *worker_main(void *arg)
{
    serve((int)(intptr_t)arg);
    park_worker();
}

// ---- truth ----------------------------------------------------------------------------------------

static __attribute__((noinline)) void walk(void)
{
    for (int i = 0; i < kWorkers * kConnections; i++) {
        THD *thd = g_thds[i / kConnections][i % kConnections];
        reach(thd->track.ledger, C_THD, thd);
        reach(thd->net->track.ledger, C_VIO, thd->net);
        for (Item *item = thd->free_list; item; item = item->next)
            reach(item->track.ledger, item->id(), item);
        for (handler *h : thd->open_tables)
            if (h)
                reach(h->track.ledger, h->id(), h);
        for (ha_maria *tmp = thd->tmp_tables; tmp; tmp = tmp->next_tmp)
            reach(tmp->track.ledger, C_MARIA, tmp);
    }
    ledger_check();
}

struct ClassRow {
    const char *name;
    size_t size;
    size_t offset;   // of the object (its vptr) in the malloc chunk
};
static const ClassRow g_rows[NCLASSES] = {
    {"THD", sizeof(THD), sizeof(my_memory_header)},
    {"ha_innobase", sizeof(ha_innobase), sizeof(my_memory_header)},
    {"ha_maria", sizeof(ha_maria), sizeof(my_memory_header)},
    {"ha_heap", sizeof(ha_heap), sizeof(my_memory_header)},
    {"Item_int", sizeof(Item_int), sizeof(my_memory_header)},
    {"Item_string", sizeof(Item_string), sizeof(my_memory_header)},
    {"Item_func_eq", sizeof(Item_func_eq), sizeof(my_memory_header)},
    {"Vio", sizeof(Vio), 0},
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
static const size_t kHandlerTableOffset = offsetof(handler, table);
#pragma GCC diagnostic pop

static __attribute__((noinline)) void print_truth(long scale)
{
    Verdicts counts[NCLASSES] = {};
    count_verdicts(counts, NCLASSES);
    out("{\"pid\":%d,\"program\":\"dbserver\",\"threads\":%d,\"workers\":%d,\"scale\":%ld,\"seed\":%llu,"
        "\"queries_per_worker\":%ld,\"header_size\":%zu,\"header_magic\":%u,\"planted_leak\":\"ha_maria\","
        "\"table_size\":%zu,\"tables\":%d,\"handler_table_offset\":%zu,\"classes\":[",
        (int)getpid(), kWorkers + 1, kWorkers, scale, (unsigned long long)g_seed, g_queries_per_worker,
        sizeof(my_memory_header), kHeaderMagic, sizeof(TABLE), kWorkers * (kTables + 1), kHandlerTableOffset);
    for (int t = 0; t < NCLASSES; t++) {
        const ClassRow &row = g_rows[t];
        out("%s{\"name\":\"%s\",\"size\":%zu,\"offset\":%zu,", t ? "," : "", row.name, row.size, row.offset);
        out_verdicts((uint32_t)t, counts[t]);
        out("}");
    }
    out("]}");
}

int main(int argc, char **argv)
{
    long scale = arg_count(argc, argv, 1, 1, 1000);
    g_seed = (uint64_t)arg_count(argc, argv, 2, 1, 1L << 40);
    if (scale < 1) {
        fprintf(stderr, "dbserver: scale must be >= 1\n");
        return 2;
    }
    g_queries_per_worker = 1600 * scale;
    g_ledger_cap = (size_t)g_queries_per_worker * kWorkers * 24 + 1024;
    g_ledger = static_cast<LedgerEntry *>(ledger_map(g_ledger_cap * sizeof(LedgerEntry)));
    g_reached = static_cast<uint8_t *>(ledger_map(g_ledger_cap));

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    // One worker at a time: each worker's arena, and so the heap's layout, is the same on every run.
    for (int w = 0; w < kWorkers; w++) {
        pthread_t th;
        if (pthread_create(&th, &attr, worker_main, (void *)(intptr_t)w) != 0)
            abort();
        wait_for_parked(w + 1);
    }
    walk();
    print_truth(scale);
    munmap(g_ledger, g_ledger_cap * sizeof(LedgerEntry));
    munmap(g_reached, g_ledger_cap);
    finish_and_stop();
}
