/*
 * sample_records.h - 64-byte "records" whose truth the sample prints: the ones it keeps
 * ("anchored") and the ones whose address survives only as stale bytes ("leaked").
 * Include after sample_common.h and define RECORD_MAGIC first.
 */
#ifndef SAMPLE_RECORDS_H
#define SAMPLE_RECORDS_H

typedef struct record {
    uint64_t tag;   /* RECORD_MAGIC | index */
    uint64_t payload[7];
} record_t;

_Static_assert(sizeof(record_t) == 64, "record_t must be 64 bytes");

static char g_anchored[16][24], g_leaked[16][24];
static size_t g_nanchored, g_nleaked;

static __attribute__((noinline)) record_t *new_record(uint64_t index)
{
    record_t *r = malloc(sizeof *r);
    if (!r)
        abort();
    r->tag = RECORD_MAGIC | index;
    for (int k = 0; k < 7; k++)
        r->payload[k] = index * 8 + (uint64_t)k;
    return r;
}

static SAMPLE_UNUSED __attribute__((noinline)) record_t *anchored(uint64_t index)
{
    record_t *r = new_record(index);
    addr_text(g_anchored[g_nanchored++], sizeof g_anchored[0], r);
    return r;
}

/* The record's address survives only as the bytes copied to `stale`. */
static SAMPLE_UNUSED __attribute__((noinline)) void leaked(uint64_t index, void *stale)
{
    record_t *r = new_record(index);
    addr_text(g_leaked[g_nleaked++], sizeof g_leaked[0], r);
    memcpy(stale, &r, sizeof r);
}

/* The truth line: pid, program name, and both lists; then stop for the core. */
static SAMPLE_UNUSED __attribute__((noreturn)) void print_records_and_stop(const char *program)
{
    scrub_stack();
    out("{\"pid\":%d,\"program\":\"%s\",\"threads\":1,\"record_size\":%zu,\"anchored\":",
        (int)getpid(), program, sizeof(record_t));
    out_text_list(g_anchored, g_nanchored);
    out(",\"leaked\":");
    out_text_list(g_leaked, g_nleaked);
    out("}");
    finish_and_stop();
}

#endif
