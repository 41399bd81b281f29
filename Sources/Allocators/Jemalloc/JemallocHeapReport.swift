/// What `heapscan heap` shows for a jemalloc process, in the terms of jemalloc's own
/// `malloc_stats_print`. Codable: the JSON output is this structure (addresses as "0x…").
public struct JemallocHeapReport: Codable, Sendable {
    /// One small size class (bin), in one arena or merged over all arenas.
    public struct Bin: Codable, Sendable, Equatable {
        /// jemalloc's bin index (= size class index).
        public var bin: Int
        public var size: UInt64
        /// Regions allocated from slabs (jemalloc's `curregs`): includes those in thread caches.
        public var regionsInUse: Int
        public var slabs: Int
        public var regionsPerSlab: Int
        public var slabSize: UInt64
        /// regionsInUse / (slabs × regionsPerSlab).
        public var utilisation: Double
        /// regionsInUse × size.
        public var bytes: UInt64
        /// Of regionsInUse, those sitting in thread caches (free for the program).
        public var cachedInThreads: Int
    }

    /// Large allocations of one size class (jemalloc's `lextents`).
    public struct Large: Codable, Sendable, Equatable {
        /// Index among large classes (jemalloc's `lextents.<j>`).
        public var lextent: Int
        public var size: UInt64
        /// Active extents of this class (jemalloc's `curlextents`), including thread-cached ones.
        public var count: Int
        public var bytes: UInt64
        public var cachedInThreads: Int
    }

    public struct Arena: Codable, Sendable {
        /// `arena 0`: the name `show` and `leaks` give the arena (glibc's is its address).
        public var arena: String
        public var index: Int
        public var bins: [Bin]
        public var large: [Large]
        public var allocated: UInt64
        public var active: UInt64
        /// Regions and large allocations the program holds: in use, less those in thread caches
        /// (the same count as glibc's used chunks and `leaks`' usedAllocations).
        public var usedAllocations: Int
        public var usedBytes: UInt64
    }

    public struct Totals: Codable, Sendable, Equatable {
        /// Allocations the program holds (thread-cached regions are free for it), as for glibc.
        public var usedAllocations: Int
        /// Their bytes: `allocated` less `cachedInThreads`.
        public var usedBytes: UInt64
        /// Bytes in regions and large allocations in use (jemalloc's `stats.allocated`).
        public var allocated: UInt64
        /// Bytes in active extents, pages (jemalloc's `stats.active`).
        public var active: UInt64
        /// Extent-map leaves, extent headers seen and thread-cache stacks: a lower bound of
        /// jemalloc's `stats.metadata`, which also counts its internal allocations.
        public var metadataEstimate: UInt64
        /// Bytes of active, dirty and muzzy extents whose pages are in the core.
        public var residentInCore: UInt64
        /// Active + dirty + muzzy extents (jemalloc's `stats.mapped` without its metadata).
        public var mapped: UInt64
        /// Address space kept but returned to the system (jemalloc's `stats.retained`).
        public var retained: UInt64
        /// Freed pages awaiting purge.
        public var dirty: UInt64
        public var muzzy: UInt64
        public var dirtyExtents: Int
        public var muzzyExtents: Int
        public var retainedExtents: Int
        public var slabs: Int
        public var largeExtents: Int
        /// Bytes held in thread caches (free for the program, allocated for jemalloc).
        public var cachedInThreads: UInt64
    }

    public struct CacheBin: Codable, Sendable, Equatable {
        public var bin: Int
        public var size: UInt64
        public var count: Int
        public var capacity: Int
        public var bytes: UInt64
    }

    public struct ThreadCache: Codable, Sendable {
        public var thread: Int32?
        /// Address of the cache's first bin in the thread's TLS.
        public var address: String
        /// The arena most of its cached regions come from (`arena 0`), when it holds any.
        public var arena: String?
        public var count: Int
        public var bytes: UInt64
        /// Bins holding at least one region.
        public var bins: [CacheBin]
    }

    /// Where an address asked about (`heap --address`) falls.
    public struct Lookup: Codable, Sendable {
        public var query: String
        /// Start of the region or large allocation containing it, nil when none does.
        public var address: String?
        public var offset: UInt64?
        public var size: UInt64?
        /// Used by the program; false when free in its slab or held in a thread cache.
        public var used: Bool?
        /// "small" (a slab region) or "large".
        public var kind: String?
        /// `arena 0`.
        public var arena: String?
    }

    /// The core file's path, as every command's JSON names it (set by the caller).
    public var core = ""
    public var allocator: String
    public var version: String?
    public var library: String?
    public var method: String
    public var pageSize: UInt64
    public var extentMapRoot: String
    /// Merged over arenas, sorted by bytes, largest first.
    public var bins: [Bin]
    /// Merged over arenas, sorted by size.
    public var large: [Large]
    public var arenas: [Arena]
    public var totals: Totals
    public var threadCaches: [ThreadCache]
    public var consistency: JemallocConsistency
    public var warnings: [String]
    public var lookup: Lookup?
    /// A CPython process's small-object allocator, beside jemalloc.
    public var pymalloc: PymallocReport?
}
