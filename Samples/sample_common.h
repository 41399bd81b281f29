/*
 * sample_common.h - helpers shared by the heapscan sample programs.
 *
 * Every sample builds an exactly known heap population, prints its ground
 * truth as ONE JSON object on stdout and then stops itself so that a core
 * can be taken (see make-core).  The helpers here exist so that producing
 * the truth does not disturb the thing it describes:
 *
 *  - The JSON is assembled in an mmap()ed buffer (never malloc, never the
 *    stdio FILE buffer) and written with write(2), so printing allocates
 *    nothing on the heap and leaves no binary copy of any pointer there.
 *  - Addresses that must not stay reachable (leaked objects) are recorded
 *    only as text, never as a binary pointer.
 *  - scrub_stack() wipes the dead part of the stack below the caller, where
 *    malloc/printf frames leave stale copies of pointers behind.
 *
 * Header-only and valid as both C and C++.
 */
#ifndef HEAPSCAN_SAMPLE_COMMON_H
#define HEAPSCAN_SAMPLE_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define SAMPLE_UNUSED __attribute__((unused))

/* ---- output buffer (mmap-backed, grows with mremap) -------------------- */

static char *g_out_buf;
static size_t g_out_len, g_out_cap;

static SAMPLE_UNUSED void out_reserve(size_t extra)
{
    size_t need = g_out_len + extra + 1;
    if (need <= g_out_cap)
        return;
    size_t cap = g_out_cap ? g_out_cap : 64 * 1024;
    while (cap < need)
        cap *= 2;
    void *p = g_out_buf
        ? mremap(g_out_buf, g_out_cap, cap, MREMAP_MAYMOVE)
        : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        abort();
    g_out_buf = (char *)p;
    g_out_cap = cap;
}

/* printf-style append; vsnprintf with these simple formats never mallocs. */
static SAMPLE_UNUSED __attribute__((format(printf, 1, 2))) void out(const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        out_reserve(256);
        va_start(ap, fmt);
        int n = vsnprintf(g_out_buf + g_out_len, g_out_cap - g_out_len, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if ((size_t)n < g_out_cap - g_out_len) {
            g_out_len += (size_t)n;
            return;
        }
        out_reserve((size_t)n + 1);
    }
}

/* Writes the JSON (plus newline) to fd 1 with write(2). */
static SAMPLE_UNUSED void out_flush(void)
{
    out("\n");
    size_t off = 0;
    while (off < g_out_len) {
        ssize_t n = write(1, g_out_buf + off, g_out_len - off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
}

/* Lowercase "0x..." text of an address, into a caller-provided buffer. */
static SAMPLE_UNUSED void addr_text(char *dst, size_t n, const void *p)
{
    snprintf(dst, n, "0x%lx", (unsigned long)(uintptr_t)p);
}

/* Appends ["a","b",...] from an array of already formatted address strings. */
static SAMPLE_UNUSED void out_text_list(char (*texts)[24], size_t n)
{
    out("[");
    for (size_t i = 0; i < n; i++)
        out("%s\"%s\"", i ? "," : "", texts[i]);
    out("]");
}

/* ---- stack scrubbing --------------------------------------------------- */

/*
 * Zeroes 64 KiB of stack below the caller (thread stacks must be larger).  malloc, snprintf & co. leave
 * copies of pointers in their (now dead) frames; a conservative scanner that
 * reads the whole stack mapping would otherwise see leaked objects as
 * referenced.  explicit_bzero cannot be optimised away.
 */
static SAMPLE_UNUSED __attribute__((noinline)) void scrub_stack(void)
{
    char buf[64 * 1024];
    explicit_bzero(buf, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* ---- keeping cores small ---------------------------------------------- */

/*
 * glibc reserves 64 MiB per non-main arena heap and maps the unused part
 * PROT_NONE; gcore would write all of it as zeros (hundreds of MB with a
 * few threads).  Mark every inaccessible ("---p") mapping MADV_DONTDUMP so
 * neither gcore nor the kernel dumps it.  Reads /proc/self/maps with read(2)
 * into a static buffer: no heap use.  Set HEAPSCAN_SAMPLE_DUMP_ALL=1 to skip.
 */
static SAMPLE_UNUSED void dontdump_inaccessible(void)
{
    static char maps[1 << 20];
    const char *all = getenv("HEAPSCAN_SAMPLE_DUMP_ALL");
    if (all && strcmp(all, "1") == 0)
        return;
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return;
    size_t len = 0;
    ssize_t n;
    while (len < sizeof maps - 1 && (n = read(fd, maps + len, sizeof maps - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    maps[len] = '\0';
    for (char *line = maps; *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && strcmp(perms, "---p") == 0)
            madvise((void *)lo, hi - lo, MADV_DONTDUMP);
        if (!eol)
            break;
        line = eol + 1;
    }
}

/* ---- stopping ---------------------------------------------------------- */

/*
 * Writes the truth and stops the process: SIGSTOP (for gcore) or, with
 * HEAPSCAN_SAMPLE_ABORT=1, abort() (for a kernel-written core), or with
 * HEAPSCAN_SAMPLE_PAUSE=1 blocks in pause() (a live process for --pid).  If the
 * process is continued after SIGSTOP it exits 0.
 */
static SAMPLE_UNUSED __attribute__((noreturn)) void finish_and_stop(void)
{
    out_flush();
    dontdump_inaccessible();
    scrub_stack();
    const char *a = getenv("HEAPSCAN_SAMPLE_ABORT");
    if (a && strcmp(a, "1") == 0)
        abort();
    /* HEAPSCAN_SAMPLE_PAUSE=1 keeps the process running (state S, blocked in pause) for
     * snapshots of a live process; it exits on SIGTERM/SIGKILL. */
    const char *p = getenv("HEAPSCAN_SAMPLE_PAUSE");
    if (p && strcmp(p, "1") == 0)
        for (;;)
            pause();
    raise(SIGSTOP);
    _exit(0);
}

/* Parses optional positional argument i as a non-negative count. */
static SAMPLE_UNUSED long arg_count(int argc, char **argv, int i, long dflt, long max)
{
    if (argc <= i)
        return dflt;
    char *end;
    long v = strtol(argv[i], &end, 0);
    if (*argv[i] == '\0' || *end != '\0' || v < 0 || v > max) {
        char msg[256];
        int n = snprintf(msg, sizeof msg, "%s: argument %d ('%s') must be an integer in 0..%ld\n",
                         argv[0], i, argv[i], max);
        if (write(2, msg, (size_t)n) < 0) { /* nothing to do */ }
        exit(2);
    }
    return v;
}

#endif
