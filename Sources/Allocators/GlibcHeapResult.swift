/// One contiguous range of chunks owned by an arena: the brk heap of the main arena, or one
/// `heap_info`-headed mmap of a non-main arena.
public struct GlibcHeapRange: Sendable, Equatable {
    public var start: UInt64
    /// End of the heap's memory (brk end, or heap_info start + heap_info.size).
    public var end: UInt64
    public var firstChunk: UInt64
    /// Where the chunk walk stopped: the top chunk's end, the fencepost, or the corruption.
    public var walkedEnd: UInt64
    public var holdsTop: Bool
}

/// What the walk learned about one arena (`malloc_state`).
public struct GlibcArena: Sendable {
    public var address: UInt64
    public var isMain: Bool
    public var heaps: [GlibcHeapRange]
    public var top: UInt64
    public var topSize: UInt64
    /// `malloc_state.system_mem` as read from the core.
    public var systemMem: UInt64
    /// Bytes of this arena's heaps from their start to their end, as the walk measured them.
    public var measuredSystemBytes: UInt64
    /// Chunk counts in the arena's fastbins and regular bins (unsorted, small, large), from
    /// walking the lists.
    public var fastbinChunks: Int
    public var fastbinBytes: UInt64
    public var binnedChunks: Int
    public var binnedBytes: UInt64
    /// Free chunks the heap walk saw (next chunk's PREV_INUSE clear, top excluded); equals
    /// `binnedChunks` in a consistent heap.
    public var walkedFreeChunks: Int
    public var walkedFreeBytes: UInt64
    /// Bytes glibc counts as used but that are no allocation of the program: heap_info and
    /// malloc_state headers, tcache_perthread_structs, fenceposts.
    public var internalBytes: UInt64
}

/// A thread's tcache (`tcache_perthread_struct`).
public struct GlibcTcache: Sendable {
    public var address: UInt64
    /// Thread whose TLS points at it, when found that way.
    public var threadID: Int32?
    public var chunks: Int
    public var bytes: UInt64
}

/// Free chunks by where glibc keeps them, summed over arenas.
public struct GlibcFreeSummary: Sendable, Equatable {
    public var tcacheChunks = 0
    public var tcacheBytes: UInt64 = 0
    public var fastbinChunks = 0
    public var fastbinBytes: UInt64 = 0
    public var unsortedChunks = 0
    public var unsortedBytes: UInt64 = 0
    public var smallbinChunks = 0
    public var smallbinBytes: UInt64 = 0
    public var largebinChunks = 0
    public var largebinBytes: UInt64 = 0
    public var topChunks = 0
    public var topBytes: UInt64 = 0

    public init() {}
}

/// The numbers `mallinfo2()` would have returned in the process, recomputed from the walk (not
/// from counters), so they can be checked against what the process printed.
public struct GlibcMallinfo: Sendable, Equatable, Codable {
    public var arena: UInt64
    public var ordblks: UInt64
    public var smblks: UInt64
    public var hblks: UInt64
    public var hblkhd: UInt64
    public var fsmblks: UInt64
    public var uordblks: UInt64
    public var fordblks: UInt64
    public var keepcost: UInt64
}

/// Everything the glibc walker found: the allocation table other layers use, plus the
/// allocator's own structures for `heapscan heap`.
public struct GlibcHeapResult: Sendable {
    public var table: AllocationTable
    public var arenas: [GlibcArena]
    public var tcaches: [GlibcTcache]
    public var free: GlibcFreeSummary
    public var mmappedChunks: Int
    public var mmappedBytes: UInt64
    /// True when free-list links are mangled (safe-linking); nil when no list decided it.
    public var safeLinking: Bool?
    public var mallinfo: GlibcMallinfo
    public var warnings: [String] { table.warnings }
}
