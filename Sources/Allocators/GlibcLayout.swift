/// Offsets and constants of glibc malloc's structures on 64-bit little-endian targets, glibc
/// 2.26 and later (malloc/malloc.c, malloc/arena.c). These are what let the walker read a core
/// without libc debug symbols.
enum GlibcLayout {
    // Chunk header: prev_size at 0, size at 8; user memory (and tcache/fastbin links) at 16.
    static let chunkHeader: UInt64 = 16
    static let sizeFieldOffset: UInt64 = 8
    static let alignment: UInt64 = 16
    static let minChunk: UInt64 = 32
    static let prevInUse: UInt64 = 0x1
    static let isMmapped: UInt64 = 0x2
    static let flagBits: UInt64 = 0x7

    // struct malloc_state: mutex (int), flags (int), have_fastchunks (int, padded to 16),
    // fastbinsY[10], top, last_remainder, bins[254], binmap[4], next, next_free,
    // attached_threads, system_mem, max_system_mem.
    static let stateMutex: UInt64 = 0
    static let stateFlags: UInt64 = 4
    static let stateHaveFastchunks: UInt64 = 8
    static let stateFastbins: UInt64 = 16
    static let fastbinCount = 10
    static let stateTop: UInt64 = 96
    static let stateBins: UInt64 = 112
    static let binCount = 128
    static let stateNext: UInt64 = 2160
    static let stateSystemMem: UInt64 = 2184
    static let stateMaxSystemMem: UInt64 = 2192
    static let stateSize: UInt64 = 2200
    /// malloc_state.flags bit: the main arena's memory is not one contiguous brk range.
    static let nonContiguousFlag: UInt32 = 0x2

    /// `bin_at(arena, i)`: the fake chunk whose fd/bk are bins[2(i-1)], bins[2(i-1)+1].
    static func bin(_ index: Int, of arena: UInt64) -> UInt64 {
        arena &+ stateBins &+ UInt64(index - 1) &* 16 &- 16
    }

    // struct heap_info: ar_ptr, prev, size, mprotect_size (and, from glibc 2.35, pagesize),
    // padded to a multiple of 16. Non-main heaps are aligned to HEAP_MAX_SIZE.
    static let heapInfoArena: UInt64 = 0
    static let heapInfoPrev: UInt64 = 8
    static let heapInfoSize: UInt64 = 16
    static let heapInfoSizes: [UInt64] = [32, 48]
    static let heapMaxSize: UInt64 = 64 << 20

    // struct tcache_perthread_struct: counts[64] then tcache_entry *entries[64], malloc'd as one
    // request: uint16 counts from glibc 2.30 (a 0x290-byte chunk), char counts before (0x250).
    static let tcacheBins = 64
    static let tcacheLayouts = [GlibcTcacheLayout(countWidth: 2), GlibcTcacheLayout(countWidth: 1)]
    /// How far below a thread pointer the static TLS block holding `tcache` is searched.
    static let tlsSearchBytes: UInt64 = 4096

    static func chunkSize(ofTcacheBin index: Int) -> UInt64 { minChunk + UInt64(index) * alignment }
    static func chunkSize(ofFastbin index: Int) -> UInt64 { minChunk + UInt64(index) * alignment }

    /// Safe-linking (glibc ≥ 2.32): a link stored at `position` holds `(position >> 12) ^ pointer`.
    static func reveal(_ stored: UInt64, at position: UInt64) -> UInt64 { (position >> 12) ^ stored }

    /// The first chunk at or after `address` whose user memory is 16-byte aligned.
    static func alignedChunk(atOrAfter address: UInt64) -> UInt64 {
        let misalign = (address &+ chunkHeader) & (alignment - 1)
        return misalign == 0 ? address : address &+ (alignment - misalign)
    }
}

/// One version of tcache_perthread_struct's layout.
struct GlibcTcacheLayout: Sendable, Equatable {
    /// Bytes per count: 2 from glibc 2.30, 1 in 2.26–2.29.
    let countWidth: Int
    var entriesOffset: Int { countWidth * GlibcLayout.tcacheBins }
    var structSize: Int { entriesOffset + GlibcLayout.tcacheBins * 8 }
    /// The chunk malloc gives a request of `structSize` bytes.
    var chunkSize: UInt64 { (UInt64(structSize) + 8 + 15) & ~15 }
}
