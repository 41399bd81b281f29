#ifndef HEAPSCAN_MAPPING_GUARD_H
#define HEAPSCAN_MAPPING_GUARD_H

#include <stddef.h>

/// Watches a read-only file mapping for SIGBUS (the file shrank under it). Returns a slot for
/// the other calls, or -1 when every slot is taken (the mapping is then unwatched).
int heapscan_guard_watch(const void *start, size_t length);

/// Stops watching; call before the range is unmapped.
void heapscan_guard_unwatch(int slot);

/// 1 when a read inside the watched range faulted (and now reads zeros), else 0.
int heapscan_guard_faulted(int slot);

/// 1 once a read in any watched range has faulted: one load, cheap enough to ask per line.
int heapscan_guard_any_faulted(void);

#endif
