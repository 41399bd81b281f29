// service.cpp - a multi-threaded C++ service written like real ones, whose leaks are known exactly.
//
//   service [scale [seed]]     (defaults 1 and 1; scale 1 is 6000 requests, a few thousand objects)
//
// Main produces requests into per-worker queues (a request's key picks its worker, so each worker
// sees its requests in a fixed order and every count is exact whatever the thread timing); 4
// worker threads process them. Each worker's shard holds the state of a small service: sessions
// with pending timers, a timer registry, pub/sub channels, an epoll-like slot table, a job ring,
// an intrusive buffer list, a config table and per-connection C stats. Several request handlers
// leak the way real code does:
//   TimerCallback  cancel path erases the registry entry and pops the session's pending list
//                  without deleting (long labels only: the "async cancel" branch)
//   RetryCallback  expiry erases the registry entry without deleting (odd attempt counts)
//   Channel,       closing a channel with an odd number of subscribers only drops it from the
//   Subscriber     broker map: the channel <-> subscriber shared_ptr cycle keeps both alive
//   conn_stats     (plain C struct, 72 bytes, no magic) its only pointer is overwritten
//   Connection     slot cleared without delete; anchored ones are held ONLY by a uintptr_t member
//   Job            ring slot overwritten; anchored ones are held ONLY by tagged pointers (low bits set)
//   IoBuffer       unlinked without delete; anchored ones are held ONLY by an interior pointer to
//                  their list hook, a member in the middle of the object
//   Blob           (plain struct) overwritten; anchored ones are held ONLY by a union member
// Session is healthy (never leaked, many objects). Everything churns: strings of varied length
// (SSO and heap), vectors grown by push_back and shrunk by pop_back/erase, temporary vectors and
// objects holding pointers, log lists; freed blocks are reused, so block tails, string buffers
// past their length, vectors' spare capacity and char arrays hold stale pointers to objects that
// are leaked now. That is what a conservative scan mistakes for references.
//
// Truth: each tracked object is entered in a ledger (mmap'd, addresses XOR-masked so the ledger
// anchors nothing) when constructed and marked when destroyed or deliberately leaked. At the end,
// with the workers parked, main walks the service's real data structures from its globals; an
// object reached is anchored, a live object not reached is leaked, and the walk must agree with
// the leak sites exactly (else the sample aborts: the truth would be wrong). The JSON lists per
// type the counts and every address, as text built after the walk.
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cxxabi.h>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "sample_common.h"
#include "sample_server.h"

// ---- ledger ---------------------------------------------------------------------------------

enum TypeId { T_TIMER, T_RETRY, T_SESSION, T_CHANNEL, T_SUBSCRIBER, T_STATS, T_CONNECTION, T_JOB,
              T_BUFFER, T_BLOB, NTYPES };
static std::string text(Rng &rng, size_t length)
{
    std::string s(length, ' ');
    for (char &c : s)
        c = (char)('a' + rng.below(26));
    return s;
}

// ---- the service's types ------------------------------------------------------------------------

class Session;

class Callback {
public:
    explicit Callback(uint64_t id) : id(id) {}
    virtual ~Callback() {}
    virtual uint64_t run() = 0;
    virtual TypeId type() const = 0;
    uint64_t id;
    uint32_t ledger = 0;
};

class TimerCallback final : public Callback {
public:
    TimerCallback(uint64_t id, Session *owner, std::string label, uint64_t deadline)
        : Callback(id), owner(owner), label(std::move(label)), deadline(deadline)
    {
        ledger = ledger_add(this, T_TIMER);
    }
    ~TimerCallback() override { ledger_set(ledger, DELETED); }
    uint64_t run() override { return deadline + label.size() + ++fired; }
    TypeId type() const override { return T_TIMER; }
    Session *owner;
    std::string label;
    uint64_t deadline;
    uint32_t fired = 0;
    float jitter = 0.25f;
};

class RetryCallback final : public Callback {
public:
    RetryCallback(uint64_t id, std::string endpoint, int attempts)
        : Callback(id), endpoint(std::move(endpoint)), attempts(attempts)
    {
        ledger = ledger_add(this, T_RETRY);
        for (int i = 0; i < 6; i++)
            backoff_ms[i] = (uint16_t)(10 << i);
    }
    ~RetryCallback() override { ledger_set(ledger, DELETED); }
    uint64_t run() override { return endpoint.size() * (uint64_t)attempts; }
    TypeId type() const override { return T_RETRY; }
    std::string endpoint;
    int attempts;
    uint16_t backoff_ms[6];
};

class Session {
public:
    Session(int id, std::string user_name, double score) : id(id), score(score)
    {
        ledger = ledger_add(this, T_SESSION);
        // Real code reserves for the common case: a long buffer past its length.
        if (user_name.size() > 20)
            user.reserve(72);
        user = std::move(user_name);
        snprintf(region, sizeof region, "eu-%d", id % 7);
        snprintf(inbox, sizeof inbox, "hello %s", user.c_str());
    }
    virtual ~Session() { ledger_set(ledger, DELETED); }
    virtual uint64_t touch(uint64_t now) { last_seen = now; return pending.size(); }
    int id;
    uint32_t ledger;
    std::string user;
    std::vector<Callback *> pending;   // timers of this session, also in the registry
    double score;
    char region[12];
    uint64_t last_seen = 0;
    char inbox[160];   // a read buffer: mostly unused bytes from the block's previous life
};

class Subscriber;

class Channel {
public:
    explicit Channel(std::string name) : name(std::move(name)) { ledger = ledger_add(this, T_CHANNEL); }
    virtual ~Channel() { ledger_set(ledger, DELETED); }
    virtual size_t publish(uint64_t seq) { published = seq; return subscribers.size(); }
    std::string name;
    std::vector<std::shared_ptr<Subscriber>> subscribers;
    uint64_t published = 0;
    uint32_t ledger;
};

class Subscriber {
public:
    Subscriber(std::shared_ptr<Channel> channel, std::string client)
        : channel(std::move(channel)), client(std::move(client))
    {
        ledger = ledger_add(this, T_SUBSCRIBER);
    }
    virtual ~Subscriber() { ledger_set(ledger, DELETED); }
    virtual void deliver(uint64_t seq)
    {
        acked.push_back(seq);
        if (acked.size() > 12)
            acked.erase(acked.begin(), acked.begin() + 6);
    }
    std::shared_ptr<Channel> channel;   // the back edge of the cycle
    std::string client;
    std::vector<uint64_t> acked;
    uint32_t ledger;
    uint32_t lag = 0;
};

// A plain C struct of 72 bytes: no vptr, no constant field (no magic).
extern "C" {
struct conn_stats {
    uint32_t conn_id;   // the ledger index
    uint16_t port;
    uint16_t flags;
    uint64_t bytes_in;
    uint64_t bytes_out;
    double rtt_ms;
    uint32_t errors;
    uint32_t retries;
    char peer[24];
    uint64_t opened_at;
};
}
static_assert(sizeof(conn_stats) == 72, "conn_stats must be 72 bytes");

class Connection {
public:
    Connection(int fd, std::string peer) : fd(fd), peer(std::move(peer)) { ledger = ledger_add(this, T_CONNECTION); }
    virtual ~Connection() { ledger_set(ledger, DELETED); }
    virtual uint64_t poll() { return bytes += (uint64_t)fd; }
    int fd;
    uint32_t ledger;
    std::string peer;
    uint64_t bytes = 0;
    char state[8] = "open";
};

// epoll_event-like: the connection is held only as an integer.
struct EventSlot {
    uint32_t events;
    int32_t fd;
    uintptr_t data;
};

class Job {
public:
    Job(uint64_t seq, std::string name) : seq(seq), name(std::move(name)) { ledger = ledger_add(this, T_JOB); }
    virtual ~Job() { ledger_set(ledger, DELETED); }
    virtual uint64_t execute() { return seq * 3 + name.size(); }
    uint64_t seq;
    uint32_t ledger;
    uint32_t priority = 1;
    std::string name;
};
static const uintptr_t kTagBits = 7;

struct ListHook {
    ListHook *next;
    ListHook *prev;
};

class IoBuffer {
public:
    explicit IoBuffer(uint32_t capacity) : capacity(capacity) { ledger = ledger_add(this, T_BUFFER); }
    virtual ~IoBuffer() { ledger_set(ledger, DELETED); }
    virtual size_t fill(uint64_t stamp_now) { stamp = stamp_now; return capacity; }
    static IoBuffer *from_hook(ListHook *hook);
    uint32_t ledger;
    uint32_t capacity;
    uint64_t stamp = 0;
    char inline_data[24];
    ListHook hook;   // in the middle of the object: the list points here
    uint64_t checksum = 0;
    char tail[16];
};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
static const size_t kHookOffset = offsetof(IoBuffer, hook);
#pragma GCC diagnostic pop
IoBuffer *IoBuffer::from_hook(ListHook *hook)
{
    return reinterpret_cast<IoBuffer *>(reinterpret_cast<char *>(hook) - kHookOffset);
}

struct Blob {
    uint32_t ledger;
    uint32_t length;
    uint64_t version;
    char bytes[40];
};

enum : uint32_t { VALUE_INT, VALUE_DOUBLE, VALUE_BLOB };
struct ConfigValue {
    uint32_t kind;
    uint32_t key;
    union {
        int64_t i;
        double d;
        Blob *blob;
    } u;
};

// A temporary object holding pointers, made and dropped per timer dispatch.
struct Dispatch {
    Session *session;
    Callback *callback;
    uint64_t when;
    char note[24];
};

// ---- requests and shards --------------------------------------------------------------------------

enum Op : uint32_t {
    OP_OPEN_SESSION, OP_CLOSE_SESSION, OP_ADD_TIMER, OP_FIRE_TIMER, OP_CANCEL_TIMER, OP_RETRY,
    OP_EXPIRE_RETRY, OP_SUBSCRIBE, OP_UNSUBSCRIBE, OP_CLOSE_CHANNEL, OP_PUBLISH, OP_STATS,
    OP_CONNECT, OP_DISCONNECT, OP_JOB, OP_BUFFER_GET, OP_BUFFER_PUT, OP_CONFIG, OP_AUDIT, NOPS,
    OP_STOP = 1000
};
// Relative frequency of each request (sums to 100).
static const int kWeights[NOPS] = {8, 2, 18, 7, 9, 5, 4, 6, 3, 1, 5, 6, 5, 3, 5, 4, 3, 5, 1};

struct Request {
    uint32_t op;
    uint32_t key;
    uint64_t seed;
};

enum { kWorkers = 4, kSlots = 64, kJobRing = 16, kConfigKeys = 32, kStatsKept = 48, kRecent = 48,
       kBuffersKept = 64 };

struct Shard {
    int index = 0;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Request> queue;

    std::map<int, Session *> sessions;
    std::unordered_map<uint64_t, Callback *> timers;
    std::deque<uint64_t> retries;
    uint64_t next_id = 1;
    std::map<std::string, std::shared_ptr<Channel>> channels;
    std::vector<EventSlot> slots;
    std::unique_ptr<std::atomic<uintptr_t>[]> jobs{new std::atomic<uintptr_t>[kJobRing]()};
    size_t job_head = 0;
    ListHook buffers{&buffers, &buffers};
    size_t buffer_count = 0;
    std::vector<ConfigValue> config;
    std::vector<conn_stats *> stats;
    std::list<std::string> recent;
    uint64_t checksum = 0;
};

static Shard *g_shards[kWorkers];

// ---- request handlers ---------------------------------------------------------------------------

static Session *pick_session(Shard &s, uint32_t key)
{
    if (s.sessions.empty())
        return nullptr;
    auto it = s.sessions.lower_bound((int)(key / kWorkers % 160));
    if (it == s.sessions.end())
        it = s.sessions.begin();
    return it->second;
}

static std::string channel_name(Rng &rng, uint32_t key)
{
    // Short names fit std::string's local buffer, long ones do not.
    std::string name = "chan." + std::to_string(key / kWorkers % 24);
    if (key % 3 == 0)
        name += ".partition-" + text(rng, 8);
    return name;
}

static std::map<std::string, std::shared_ptr<Channel>>::iterator pick_channel(Shard &s, uint32_t key)
{
    if (s.channels.empty())
        return s.channels.end();
    Rng rng(key);
    auto it = s.channels.lower_bound(channel_name(rng, key));
    return it == s.channels.end() ? s.channels.begin() : it;
}

static void handle(Shard &s, const Request &r, Rng &rng)
{
    switch (r.op) {
    case OP_OPEN_SESSION: {
        int id = (int)(r.key / kWorkers % 160);
        auto it = s.sessions.find(id);
        if (it != s.sessions.end()) {
            it->second->user = text(rng, rng.length(3, 40));   // reassigned: reuses or regrows the buffer
            it->second->touch(r.seed);
            break;
        }
        s.sessions[id] = new Session(id, text(rng, rng.length(3, 40)), (double)rng.below(1000) / 7.0);
        break;
    }
    case OP_CLOSE_SESSION: {
        Session *session = pick_session(s, r.key);
        if (!session)
            break;
        for (Callback *cb : session->pending) {
            s.timers.erase(cb->id);
            delete cb;
        }
        s.sessions.erase(session->id);
        delete session;
        break;
    }
    case OP_ADD_TIMER: {
        Session *session = pick_session(s, r.key);
        if (!session)
            break;
        uint64_t id = s.next_id++;
        auto *cb = new TimerCallback(id, session, text(rng, rng.length(4, 70)), r.seed % 100000);
        s.timers[id] = cb;
        session->pending.push_back(cb);
        break;
    }
    case OP_FIRE_TIMER: {
        Session *session = pick_session(s, r.key);
        if (!session || session->pending.empty())
            break;
        std::vector<Callback *> due;
        while (!session->pending.empty() && due.size() < 3) {
            due.push_back(session->pending.back());
            session->pending.pop_back();   // the popped pointer stays in the spare capacity
        }
        for (Callback *cb : due) {
            std::unique_ptr<Dispatch> d(new Dispatch{session, cb, r.seed, {}});
            snprintf(d->note, sizeof d->note, "fire %llu", (unsigned long long)cb->id);
            s.checksum += d->callback->run() + d->when;
            s.timers.erase(cb->id);
            delete cb;
        }
        break;
    }
    case OP_CANCEL_TIMER: {
        Session *session = pick_session(s, r.key);
        if (!session || session->pending.empty())
            break;
        auto *cb = static_cast<TimerCallback *>(session->pending.back());
        session->pending.pop_back();
        s.timers.erase(cb->id);
        if (cb->label.size() > 24) {
            ledger_set(cb->ledger, LEAKED);   // the async-cancel branch forgets the delete
        } else {
            delete cb;
        }
        break;
    }
    case OP_RETRY: {
        uint64_t id = s.next_id++;
        s.timers[id] = new RetryCallback(id, "https://" + text(rng, rng.length(6, 50)) + "/v1",
                                         (int)rng.length(1, 6));
        s.retries.push_back(id);
        break;
    }
    case OP_EXPIRE_RETRY: {
        if (s.retries.empty())
            break;
        uint64_t id = s.retries.front();
        s.retries.pop_front();
        auto it = s.timers.find(id);
        if (it == s.timers.end())
            fail("retry id not in the registry");
        auto *cb = static_cast<RetryCallback *>(it->second);
        s.timers.erase(it);
        if (cb->attempts % 2 == 1)
            ledger_set(cb->ledger, LEAKED);   // gave up: entry dropped, object forgotten
        else
            delete cb;
        break;
    }
    case OP_SUBSCRIBE: {
        std::string name = channel_name(rng, r.key);
        std::shared_ptr<Channel> &channel = s.channels[name];
        if (!channel)
            channel = std::shared_ptr<Channel>(new Channel(name));
        auto sub = std::make_shared<Subscriber>(channel, "client-" + text(rng, rng.length(2, 30)));
        channel->subscribers.push_back(sub);
        break;
    }
    case OP_UNSUBSCRIBE: {
        auto it = pick_channel(s, r.key);
        if (it == s.channels.end() || it->second->subscribers.empty())
            break;
        auto &subs = it->second->subscribers;
        size_t i = (size_t)rng.below(subs.size());
        std::shared_ptr<Subscriber> sub = subs[i];
        sub->channel.reset();
        subs.erase(subs.begin() + (std::ptrdiff_t)i);
        break;
    }
    case OP_CLOSE_CHANNEL: {
        auto it = pick_channel(s, r.key);
        if (it == s.channels.end())
            break;
        Channel *channel = it->second.get();
        if (channel->subscribers.size() % 2 == 1) {
            // Dropped from the broker only: the subscribers still own the channel and it owns them.
            ledger_set(channel->ledger, LEAKED);
            for (auto &sub : channel->subscribers)
                ledger_set(sub->ledger, LEAKED);
        } else {
            for (auto &sub : channel->subscribers)
                sub->channel.reset();
        }
        s.channels.erase(it);
        break;
    }
    case OP_PUBLISH: {
        auto it = pick_channel(s, r.key);
        if (it == s.channels.end())
            break;
        std::vector<Subscriber *> targets;
        for (auto &sub : it->second->subscribers)
            targets.push_back(sub.get());
        for (Subscriber *sub : targets)
            sub->deliver(r.seed);
        s.checksum += it->second->publish(r.seed);
        break;
    }
    case OP_STATS: {
        auto *st = (conn_stats *)malloc(sizeof(conn_stats));
        if (!st)
            abort();
        st->conn_id = ledger_add(st, T_STATS);
        st->port = (uint16_t)(1024 + rng.below(50000));
        st->flags = (uint16_t)rng.below(16);
        st->bytes_in = rng.below(1 << 20);
        st->bytes_out = rng.below(1 << 20);
        st->rtt_ms = (double)rng.below(5000) / 10.0;
        st->errors = (uint32_t)rng.below(3);
        st->retries = (uint32_t)rng.below(5);
        snprintf(st->peer, sizeof st->peer, "10.%u.%u.%u", (unsigned)rng.below(256),
                 (unsigned)rng.below(256), (unsigned)rng.below(256));
        st->opened_at = r.seed >> 20;
        if (s.stats.size() < kStatsKept) {
            s.stats.push_back(st);
            break;
        }
        size_t i = (size_t)rng.below(s.stats.size());
        conn_stats *old = s.stats[i];
        s.stats[i] = st;   // the old struct's only pointer
        if (rng.below(3) == 0) {
            ledger_set(old->conn_id, LEAKED);
        } else {
            ledger_set(old->conn_id, DELETED);
            free(old);
        }
        break;
    }
    case OP_CONNECT: {
        size_t start = (size_t)rng.below(kSlots), n = s.slots.size(), free_slot = SIZE_MAX;
        for (size_t k = 0; k < n && free_slot == SIZE_MAX; k++)
            if (s.slots[(start + k) % n].data == 0)
                free_slot = (start + k) % n;
        if (free_slot == SIZE_MAX) {
            if (n == kSlots)
                break;
            s.slots.push_back(EventSlot{0, -1, 0});
            free_slot = n;
        }
        int fd = (int)(r.key % 4096);
        auto *c = new Connection(fd, text(rng, rng.length(7, 30)) + ":443");
        s.slots[free_slot] = EventSlot{1u | 4u, fd, reinterpret_cast<uintptr_t>(c)};
        break;
    }
    case OP_DISCONNECT: {
        size_t n = s.slots.size(), start = (size_t)rng.below(kSlots);
        for (size_t k = 0; k < n; k++) {
            EventSlot &slot = s.slots[(start + k) % n];
            if (slot.data == 0)
                continue;
            auto *c = reinterpret_cast<Connection *>(slot.data);
            slot.data = 0;
            slot.events = 0;
            s.checksum += c->poll();
            if (rng.below(4) == 0)
                ledger_set(c->ledger, LEAKED);   // error path returns before the delete
            else
                delete c;
            break;
        }
        break;
    }
    case OP_JOB: {
        size_t pos = s.job_head++ % kJobRing;
        uintptr_t old = s.jobs[pos].load();
        if (old) {
            auto *job = reinterpret_cast<Job *>(old & ~kTagBits);
            s.checksum += job->execute();
            if (rng.below(4) == 0)
                ledger_set(job->ledger, LEAKED);   // overwritten while still "running"
            else
                delete job;
        }
        auto *job = new Job(r.seed, "job-" + text(rng, rng.length(1, 40)));
        s.jobs[pos].store(reinterpret_cast<uintptr_t>(job) | (uintptr_t)(1 + rng.below(3)));
        break;
    }
    case OP_BUFFER_GET: {
        if (s.buffer_count >= kBuffersKept)
            break;
        auto *b = new IoBuffer((uint32_t)(512 << rng.below(4)));
        snprintf(b->inline_data, sizeof b->inline_data, "buf%llu", (unsigned long long)(r.seed % 9999));
        b->hook.next = s.buffers.next;
        b->hook.prev = &s.buffers;
        s.buffers.next->prev = &b->hook;
        s.buffers.next = &b->hook;
        s.buffer_count++;
        break;
    }
    case OP_BUFFER_PUT: {
        ListHook *h = s.buffers.prev;
        if (h == &s.buffers)
            break;
        h->prev->next = h->next;
        h->next->prev = h->prev;
        s.buffer_count--;
        IoBuffer *b = IoBuffer::from_hook(h);
        s.checksum += b->fill(r.seed);
        if (rng.below(3) == 0)
            ledger_set(b->ledger, LEAKED);   // handed to a callback that never returns it
        else
            delete b;
        break;
    }
    case OP_CONFIG: {
        uint32_t key = r.key / kWorkers % kConfigKeys;
        while (s.config.size() <= key)
            s.config.push_back(ConfigValue{VALUE_INT, (uint32_t)s.config.size(), {0}});
        ConfigValue &v = s.config[key];
        if (v.kind == VALUE_BLOB) {
            if (rng.below(3) == 0)
                ledger_set(v.u.blob->ledger, LEAKED);   // overwritten below without free
            else {
                ledger_set(v.u.blob->ledger, DELETED);
                delete v.u.blob;
            }
        }
        switch (rng.below(3)) {
        case 0: v.kind = VALUE_INT; v.u.i = (int64_t)rng.below(100000); break;
        case 1: v.kind = VALUE_DOUBLE; v.u.d = (double)rng.below(1000) / 3.0; break;
        default: {
            auto *blob = new Blob;
            blob->ledger = ledger_add(blob, T_BLOB);
            blob->length = (uint32_t)rng.length(1, 39);
            blob->version = r.seed & 0xffff;
            std::string t = text(rng, blob->length);
            memcpy(blob->bytes, t.c_str(), t.size() + 1);
            v.kind = VALUE_BLOB;
            v.u.blob = blob;
        }
        }
        break;
    }
    case OP_AUDIT: {
        // A metrics snapshot: pointers to every registered callback, in a temporary vector.
        std::vector<Callback *> snapshot;
        for (auto &entry : s.timers)
            snapshot.push_back(entry.second);
        std::string report;
        for (Callback *cb : snapshot) {
            report += std::to_string(cb->id);
            report += ',';
        }
        s.checksum += report.size() + snapshot.size();
        break;
    }
    }
}

static __attribute__((noinline)) void process(Shard &s, const Request &r)
{
    Rng rng(r.seed);
    // Every request carries a payload of varied length; the recent ones are kept in a log.
    std::string payload = text(rng, rng.length(0, 120));
    handle(s, r, rng);
    if (r.seed % 4 != 0) {
        s.recent.push_back(std::move(payload));
        if (s.recent.size() > kRecent)
            s.recent.pop_front();
    }
}

// ---- threads ----------------------------------------------------------------------------------------


static void *worker_main(void *arg)
{
    Shard *s = static_cast<Shard *>(arg);
    for (;;) {
        Request r;
        {
            std::unique_lock<std::mutex> lock(s->mu);
            s->cv.wait(lock, [s] { return !s->queue.empty(); });
            r = s->queue.front();
            s->queue.pop_front();
        }
        if (r.op == OP_STOP)
            break;
        process(*s, r);
    }
    park_worker();
}

static void produce(long requests, uint64_t seed)
{
    Rng rng(seed);
    int total = 0;
    for (int w : kWeights)
        total += w;
    const long batch = 64;
    for (long done = 0; done < requests;) {
        Request pending[kWorkers][batch];
        size_t count[kWorkers] = {};
        for (long k = 0; k < batch && done < requests; k++, done++) {
            int pick = (int)rng.below((uint64_t)total);
            uint32_t op = 0;
            while (pick >= kWeights[op])
                pick -= kWeights[op++];
            uint32_t key = (uint32_t)rng.below(100000);
            Request r{op, key, rng.next()};
            pending[key % kWorkers][count[key % kWorkers]++] = r;
        }
        for (int w = 0; w < kWorkers; w++) {
            if (!count[w])
                continue;
            std::lock_guard<std::mutex> lock(g_shards[w]->mu);
            for (size_t k = 0; k < count[w]; k++)
                g_shards[w]->queue.push_back(pending[w][k]);
            g_shards[w]->cv.notify_one();
        }
    }
    for (Shard *s : g_shards) {
        std::lock_guard<std::mutex> lock(s->mu);
        s->queue.push_back(Request{OP_STOP, 0, 0});
        s->cv.notify_one();
    }
}

// ---- truth ---------------------------------------------------------------------------------------------

// Marks everything the service can still reach from its globals, following its real pointers.
static __attribute__((noinline)) void walk(void)
{
    for (Shard *s : g_shards) {
        for (auto &entry : s->sessions) {
            Session *session = entry.second;
            reach(session->ledger, T_SESSION, session);
            for (Callback *cb : session->pending)
                reach(cb->ledger, cb->type(), cb);
        }
        for (auto &entry : s->timers)
            reach(entry.second->ledger, entry.second->type(), entry.second);
        for (auto &entry : s->channels) {
            Channel *channel = entry.second.get();
            reach(channel->ledger, T_CHANNEL, channel);
            for (auto &sub : channel->subscribers) {
                reach(sub->ledger, T_SUBSCRIBER, sub.get());
                if (sub->channel && sub->channel.get() != channel)
                    fail("subscriber of two channels");
            }
        }
        for (const EventSlot &slot : s->slots)
            if (slot.data) {
                auto *c = reinterpret_cast<Connection *>(slot.data);
                reach(c->ledger, T_CONNECTION, c);
            }
        for (size_t i = 0; i < kJobRing; i++)
            if (uintptr_t v = s->jobs[i].load()) {
                auto *job = reinterpret_cast<Job *>(v & ~kTagBits);
                reach(job->ledger, T_JOB, job);
            }
        for (ListHook *h = s->buffers.next; h != &s->buffers; h = h->next) {
            IoBuffer *b = IoBuffer::from_hook(h);
            reach(b->ledger, T_BUFFER, b);
        }
        for (const ConfigValue &v : s->config)
            if (v.kind == VALUE_BLOB)
                reach(v.u.blob->ledger, T_BLOB, v.u.blob);
        for (conn_stats *st : s->stats)
            reach(st->conn_id, T_STATS, st);
    }
    ledger_check();
}

struct TypeRow {
    const char *name;
    const char *kind;   // "class": named by its vtable; "struct": no vptr, named by size only
    size_t size;
    const char *allocation;
    const char *held_by;
    const char *leaked_by;
};

static TypeRow g_rows[NTYPES] = {
    {"TimerCallback", "class", sizeof(TimerCallback), "new", "registry std::unordered_map value and Session::pending",
     "cancel erases the registry entry and pops pending without delete"},
    {"RetryCallback", "class", sizeof(RetryCallback), "new", "registry std::unordered_map value",
     "expiry erases the registry entry without delete"},
    {"Session", "class", sizeof(Session), "new", "std::map value", "never"},
    {"Channel", "class", sizeof(Channel), "new, owned by std::shared_ptr", "std::map of std::shared_ptr",
     "shared_ptr cycle with its subscribers dropped from the map"},
    {"Subscriber", "class", sizeof(Subscriber), "std::make_shared", "std::vector<std::shared_ptr> in Channel",
     "shared_ptr cycle with its channel dropped from the map"},
    {"conn_stats", "struct", sizeof(conn_stats), "malloc", "std::vector<conn_stats*>",
     "only pointer overwritten"},
    {"Connection", "class", sizeof(Connection), "new", "uintptr_t member EventSlot::data",
     "slot cleared without delete"},
    {"Job", "class", sizeof(Job), "new", "tagged pointer (low bits set) in a std::atomic<uintptr_t> ring",
     "ring slot overwritten without delete"},
    {"IoBuffer", "class", sizeof(IoBuffer), "new", "interior pointer to member IoBuffer::hook (intrusive list)",
     "unlinked without delete"},
    {"Blob", "struct", sizeof(Blob), "new", "union member ConfigValue::u.blob", "union overwritten without delete"},
};

// The make_shared block's dynamic type, as a vtable-based namer sees it, and where the object starts.
static char g_subscriber_block_name[256];
static char g_subscriber_block_mangled[256];
static size_t g_subscriber_offset;

static void probe_subscriber_block(void)
{
    auto probe = std::make_shared<Subscriber>(nullptr, "probe");
    const void *const *words = reinterpret_cast<const void *const *>(&probe);
    const char *block = static_cast<const char *>(words[1]);
    const void *const *vtable = *reinterpret_cast<const void *const *const *>(block);
    const auto *info = static_cast<const std::type_info *>(vtable[-1]);
    g_subscriber_offset = (size_t)(reinterpret_cast<const char *>(probe.get()) - block);
    snprintf(g_subscriber_block_mangled, sizeof g_subscriber_block_mangled, "%s", info->name());
    int status = 0;
    char *demangled = abi::__cxa_demangle(info->name(), nullptr, nullptr, &status);
    snprintf(g_subscriber_block_name, sizeof g_subscriber_block_name, "%s",
             status == 0 && demangled ? demangled : info->name());
    free(demangled);
}

static __attribute__((noinline)) void print_truth(long scale, uint64_t seed, long requests)
{
    Verdicts counts[NTYPES] = {};
    count_verdicts(counts, NTYPES);
    int planted = 0;
    for (int t = 0; t < NTYPES; t++)
        if (counts[t].leaked * g_rows[t].size > counts[planted].leaked * g_rows[planted].size)
            planted = t;
    out("{\"pid\":%d,\"program\":\"service\",\"threads\":%d,\"workers\":%d,\"scale\":%ld,\"seed\":%llu,"
        "\"requests\":%ld,\"planted_leak\":\"%s\",\"types\":[",
        (int)getpid(), kWorkers + 1, kWorkers, scale, (unsigned long long)seed, requests, g_rows[planted].name);
    for (int t = 0; t < NTYPES; t++) {
        const TypeRow &row = g_rows[t];
        bool in_place = t == T_SUBSCRIBER;
        out("%s{\"name\":\"%s\",\"kind\":\"%s\",\"size\":%zu,\"allocation\":\"%s\",",
            t ? "," : "", row.name, row.kind, row.size, row.allocation);
        out("\"allocation_type\":\"%s\",\"allocation_type_mangled\":\"%s\",\"offset_in_allocation\":%zu,",
            in_place ? g_subscriber_block_name : row.name, in_place ? g_subscriber_block_mangled : "",
            in_place ? g_subscriber_offset : 0);
        out("\"held_by\":\"%s\",\"leaked_by\":\"%s\",", row.held_by, row.leaked_by);
        out_verdicts((uint32_t)t, counts[t]);
        out("}");
    }
    out("]}");
}

int main(int argc, char **argv)
{
    long scale = arg_count(argc, argv, 1, 1, 1000);
    uint64_t seed = (uint64_t)arg_count(argc, argv, 2, 1, 1L << 40);
    if (scale < 1) {
        fprintf(stderr, "service: scale must be >= 1\n");
        return 2;
    }
    long requests = 6000 * scale;
    g_ledger_cap = (size_t)requests * 2 + 1024;
    g_ledger = static_cast<LedgerEntry *>(ledger_map(g_ledger_cap * sizeof(LedgerEntry)));
    g_reached = static_cast<uint8_t *>(ledger_map(g_ledger_cap));

    probe_subscriber_block();
    for (int w = 0; w < kWorkers; w++) {
        g_shards[w] = new Shard;
        g_shards[w]->index = w;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (Shard *s : g_shards) {
        pthread_t th;
        if (pthread_create(&th, &attr, worker_main, s) != 0)
            abort();
    }
    produce(requests, seed);
    wait_for_parked(kWorkers);

    walk();
    print_truth(scale, seed, requests);
    // The ledger's masked addresses anchor nothing, but nothing needs them any more either.
    munmap(g_ledger, g_ledger_cap * sizeof(LedgerEntry));
    munmap(g_reached, g_ledger_cap);
    finish_and_stop();
}
