// Why C: a SIGBUS handler must run only async-signal-safe code, and Swift gives no such
// guarantee (its runtime may allocate, take locks or initialise globals lazily). Why not
// sigsetjmp/siglongjmp around scans: jumping out of Swift frames skips their releases and
// leaves the scan kernels' threads half done. Instead the handler makes the faulting read
// succeed: the missing pages become anonymous zero pages, a flag records it, and the reader
// finishes its pass over zeros; heapscan checks the flag before it reports anything, so the
// zeros are never shown as results. One signal per reader: everything from the faulting page
// to the end of the range is replaced at once (the file's end moved below it, and the run
// is going to fail anyway).
#define _GNU_SOURCE
#include "mapping_guard.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { slotCount = 64 };

static _Atomic uintptr_t slotStart[slotCount];
static _Atomic uintptr_t slotEnd[slotCount];
static atomic_int slotFaulted[slotCount];
static atomic_int anyFaulted;
static atomic_int installed;
static uintptr_t pageMask;
static struct sigaction previous;

static void on_sigbus(int signal, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int slot = 0; slot < slotCount; slot++) {
        uintptr_t start = atomic_load(&slotStart[slot]);
        uintptr_t end = atomic_load(&slotEnd[slot]);
        if (start == 0 || address < start || address >= end) continue;
        uintptr_t page = address & ~pageMask;
        void *replaced = mmap((void *)page, end - page, PROT_READ,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (replaced != MAP_FAILED) {
            atomic_store(&slotFaulted[slot], 1);
            atomic_store(&anyFaulted, 1);
            return;
        }
        break;
    }
    // Not a watched read: the fault repeats under the handler that was there before (the
    // default one ends the process with SIGBUS, as it would have without heapscan's).
    (void)signal;
    (void)context;
    sigaction(SIGBUS, &previous, NULL);
}

static void install(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return;
    pageMask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous);
}

int heapscan_guard_watch(const void *start, size_t length) {
    if (start == NULL || length == 0) return -1;
    install();
    for (int slot = 0; slot < slotCount; slot++) {
        uintptr_t empty = 0;
        if (atomic_compare_exchange_strong(&slotStart[slot], &empty, (uintptr_t)start)) {
            atomic_store(&slotFaulted[slot], 0);
            atomic_store(&slotEnd[slot], (uintptr_t)start + length);
            return slot;
        }
    }
    return -1;
}

void heapscan_guard_unwatch(int slot) {
    if (slot < 0 || slot >= slotCount) return;
    atomic_store(&slotEnd[slot], 0);
    atomic_store(&slotStart[slot], 0);
}

int heapscan_guard_faulted(int slot) {
    if (slot < 0 || slot >= slotCount) return 0;
    return atomic_load(&slotFaulted[slot]);
}

int heapscan_guard_any_faulted(void) {
    return atomic_load(&anyFaulted);
}
