/*
 * globals.c - module data whose DWARF types say which words can hold a pointer.
 *
 *   globals
 *
 * Each "record" is a 64-byte block. Some are kept by globals the program uses as pointers;
 * the others were dropped, and only stale bytes in globals that are not pointers still name
 * them, as happens when a pointer's bytes are copied into a log line or a struct is reused:
 *   anchored:  g_current (a pointer), g_handle (a uintptr_t holding a pointer), g_slot.ptr (a
 *              union member beside a char view), g_table.entries[] (pointer members of a struct),
 *              g_tagged (a uintptr_t pointer with its low bits used as a tag);
 *   leaked:    bytes copied into g_log_line (a char buffer), g_samples (a double array),
 *              g_table.name (a char array beside the struct's pointers) and g_halves (uint32_t
 *              pairs, each pair a whole pointer's bits).
 * With DWARF, only the first kind anchors anything; scanning module data word by word, both do.
 */
#include "sample_common.h"

#define RECORD_MAGIC 0x600DDA7A00000000ull
#define ENTRIES 4

#include "sample_records.h"


struct table {
    record_t *entries[ENTRIES];
    char name[32];
    uint32_t count;
};

union slot {
    char text[16];
    record_t *ptr;
};

record_t *g_current;
uintptr_t g_handle;
uintptr_t g_tagged;
union slot g_slot;
struct table g_table;
char g_log_line[128];   /* arrays of 16 bytes or more are 16-byte aligned (x86-64 ABI) */
double g_samples[8];
uint32_t g_halves[8];

static __attribute__((noinline)) void build(void)
{
    uint64_t index = 0;
    g_current = anchored(index++);
    g_handle = (uintptr_t)anchored(index++);
    g_tagged = (uintptr_t)anchored(index++) | 3;
    g_slot.ptr = anchored(index++);
    for (int i = 0; i < ENTRIES; i++)
        g_table.entries[i] = anchored(index++);
    g_table.count = ENTRIES;

    snprintf(g_log_line, sizeof g_log_line, "request 17 done");
    leaked(index++, g_log_line + 32);
    leaked(index++, g_log_line + 64);
    for (int i = 0; i < 8; i++)
        g_samples[i] = 0.5 * i;
    leaked(index++, &g_samples[3]);
    snprintf(g_table.name, sizeof g_table.name, "tbl");
    leaked(index++, g_table.name + 8);
    leaked(index++, &g_halves[2]);
}

int main(void)
{
    build();
    print_records_and_stop("globals");
}
