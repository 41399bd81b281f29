// containers.cpp - ground truth for container-part groups: libstdc++ containers whose nodes,
// buckets, blocks and bodies the sample counts itself.
//
//   containers [scale]        (default 1)
//
// Anchored (globals): a std::map<int, long>, a std::set of long strings, a std::list of short
// strings, two std::unordered_maps (long keys -> long, long strings -> int), a std::vector of
// Channel* (Channel is polymorphic), a std::vector of std::vector<long>, a std::deque<long>.
// Leaked (pointer dropped): a std::map<int, long> and a std::vector of long strings, each made
// with new. Every count scales with `scale`; nothing else in the program allocates a container.
// The truth lists the exact number of each part: map nodes, list nodes, hash nodes, bucket
// arrays, long string bodies, vector bodies, deque blocks and maps, anchored and leaked.
#include <deque>
#include <list>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "sample_common.h"

struct Channel {
    virtual ~Channel();
    virtual long id() const;
    long fields[5] = {};
};
Channel::~Channel() {}
long Channel::id() const { return fields[0]; }

static std::map<int, long> g_map;
static std::set<std::string> g_names;
static std::list<std::string> g_recent;
static std::unordered_map<long, long> g_hash;
static std::unordered_map<std::string, int> g_by_name;
static std::vector<Channel *> g_channels;
static std::vector<std::vector<long>> g_rows;
static std::deque<long> g_queue;

// A string longer than std::string's 15-byte local buffer, exactly sized: its characters are a
// heap block of their own.
static std::string long_text(const char *prefix, long i)
{
    char buffer[64];
    int length = snprintf(buffer, sizeof buffer, "%s-%08ld-long-enough", prefix, i);
    return std::string(buffer, (size_t)length);
}

static std::string short_text(long i)
{
    char buffer[16];
    int length = snprintf(buffer, sizeof buffer, "r%ld", i);
    return std::string(buffer, (size_t)length);
}

// The leaked containers: made here, their addresses kept as text only.
static char g_leaked_map[24], g_leaked_vector[24];

static __attribute__((noinline)) void leak_map(long nodes)
{
    auto *map = new std::map<int, long>;
    for (long i = 0; i < nodes; i++) (*map)[(int)(i * 7)] = i;
    addr_text(g_leaked_map, sizeof g_leaked_map, map);
}

static __attribute__((noinline)) void leak_strings(long strings)
{
    auto *vector = new std::vector<std::string>;
    vector->reserve((size_t)strings);
    for (long i = 0; i < strings; i++) vector->push_back(long_text("leaked", i));
    addr_text(g_leaked_vector, sizeof g_leaked_vector, vector);
}

int main(int argc, char **argv)
{
    long scale = arg_count(argc, argv, 1, 1, 1000);
    if (scale < 1) {
        fprintf(stderr, "containers: scale must be >= 1\n");
        return 2;
    }
    const long map_nodes = 300 * scale, names = 120 * scale, recent = 90 * scale, hashed = 250 * scale,
               by_name = 70 * scale, channels = 40 * scale, rows = 30 * scale, queued = 1000 * scale,
               leaked_map_nodes = 60 * scale, leaked_strings = 25 * scale;

    for (long i = 0; i < map_nodes; i++) g_map[(int)(i * 3)] = i;
    for (long i = 0; i < names; i++) g_names.insert(long_text("name", i));
    for (long i = 0; i < recent; i++) g_recent.push_back(short_text(i));
    for (long i = 0; i < hashed; i++) g_hash[i * 11] = i;
    for (long i = 0; i < by_name; i++) g_by_name[long_text("key", i)] = (int)i;
    g_channels.reserve((size_t)channels);
    for (long i = 0; i < channels; i++) {
        Channel *channel = new Channel;
        channel->fields[0] = i;
        g_channels.push_back(channel);
    }
    g_rows.reserve((size_t)rows);
    for (long i = 0; i < rows; i++) {
        std::vector<long> row;
        row.reserve(8 + (size_t)(i % 5));
        for (long k = 0; k < 8 + i % 5; k++) row.push_back(i * 100 + k);
        g_rows.push_back(std::move(row));
    }
    for (long i = 0; i < queued; i++) g_queue.push_back(i);
    leak_map(leaked_map_nodes);
    leak_strings(leaked_strings);
    scrub_stack();

    // A deque<long> block holds 512 / 8 = 64 elements; pushing back from empty fills blocks
    // from their start and allocates the next block when the last slot of one is taken.
    const long per_block = 512 / (long)sizeof(long);
    const long deque_blocks = queued / per_block + 1;
    // Every bucket array holds more than one bucket (a one-bucket table keeps it inside itself).
    if (g_hash.bucket_count() < 2 || g_by_name.bucket_count() < 2) abort();

    out("{\"pid\":%d,\"program\":\"containers\",\"threads\":1,\"scale\":%ld,", (int)getpid(), scale);
    out("\"anchored\":{\"map_nodes\":%ld,\"list_nodes\":%ld,\"hash_nodes\":%ld,\"hash_buckets\":2,"
        "\"long_strings\":%ld,\"vector_bodies\":%ld,\"deque_blocks\":%ld,\"deque_maps\":1,"
        "\"channels\":%ld},",
        map_nodes + names, recent, hashed + by_name, names + by_name, 2 + rows, deque_blocks, channels);
    out("\"leaked\":{\"map_nodes\":%ld,\"long_strings\":%ld,\"vector_bodies\":1,"
        "\"map\":\"%s\",\"vector\":\"%s\"},",
        leaked_map_nodes, leaked_strings, g_leaked_map, g_leaked_vector);
    out("\"map_node_size\":%zu,\"list_node_size\":%zu}",
        sizeof(std::_Rb_tree_node<std::pair<const int, long>>), sizeof(std::_List_node<std::string>));
    finish_and_stop();
}
