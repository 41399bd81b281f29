import ELFCore

/// What `heapscan heap` shows of a CPython process's pymalloc, beside its malloc's report:
/// per size class what `sys._debugmallocstats()` prints, the arenas, and where they live.
public struct PymallocReport: Codable, Sendable {
    public struct SizeClassRow: Codable, Sendable, Equatable {
        public var sizeClass: Int
        public var blockSize: UInt64
        public var pools: Int
        public var usedBlocks: Int
        public var availableBlocks: Int
        public var usedBytes: UInt64
    }

    public struct ArenaRow: Codable, Sendable {
        public var index: UInt32
        public var start: String
        public var end: String
        public var usedPools: Int
        public var emptyPools: Int
        public var usedBlocks: Int
        public var usedBytes: UInt64
        /// The malloc block the arena was carved from, when it is inside one; nil for an arena
        /// that is a mapping of its own (obmalloc maps its arenas itself on Linux).
        public var insideBlock: String?
    }

    public struct Totals: Codable, Sendable {
        public var arenas: Int
        public var usedPools: Int
        public var emptyPools: Int
        public var usedBlocks: Int
        public var usedBytes: UInt64
        public var availableBlocks: Int
        /// Arenas lying inside a block of the process's malloc.
        public var arenasInsideMallocBlocks: Int
    }

    public struct Lookup: Codable, Sendable {
        public var query: String
        public var address: String
        public var blockSize: UInt64
        public var used: Bool
        public var arena: String
        public var offset: UInt64
    }

    public var allocator: String
    public var interpreter: String
    public var method: String
    public var poolSize: UInt64
    public var arenaSize: UInt64
    public var totals: Totals
    /// Size classes with pools in use, by bytes in use (all of them, whatever `--top` says
    /// of the caller's histogram: there are at most 32).
    public var sizeClasses: [SizeClassRow]
    public var arenas: [ArenaRow]
    public var lookup: Lookup?
    public var warnings: [String]

    /// `outer`: the process's malloc table, to say which arenas lie inside its blocks.
    public init(heap: PymallocHeap, outer: AllocationTable?, address: UInt64? = nil) {
        allocator = heap.allocatorName
        interpreter = heap.detection.path
        method = heap.method
        poolSize = heap.layout.poolSize
        arenaSize = heap.layout.arenaSize
        arenas = heap.arenas.map { arena in
            ArenaRow(index: arena.index, start: hex(arena.range.lowerBound), end: hex(arena.range.upperBound),
                     usedPools: arena.usedPools, emptyPools: arena.emptyPools, usedBlocks: arena.usedBlocks,
                     usedBytes: arena.usedBytes,
                     insideBlock: outer?.allocation(containing: arena.range.lowerBound).map { hex($0.address) })
        }
        sizeClasses = heap.sizeClasses.filter { $0.pools > 0 }.map {
            SizeClassRow(sizeClass: $0.index, blockSize: $0.blockSize, pools: $0.pools, usedBlocks: $0.usedBlocks,
                         availableBlocks: $0.availableBlocks, usedBytes: UInt64($0.usedBlocks) * $0.blockSize)
        }.sorted { $0.usedBytes != $1.usedBytes ? $0.usedBytes > $1.usedBytes : $0.sizeClass < $1.sizeClass }
        totals = Totals(arenas: heap.arenas.count, usedPools: heap.pools.count,
                        emptyPools: heap.arenas.reduce(0) { $0 + $1.emptyPools },
                        usedBlocks: heap.usedBlocks, usedBytes: heap.usedBytes,
                        availableBlocks: heap.sizeClasses.reduce(0) { $0 + $1.availableBlocks },
                        arenasInsideMallocBlocks: arenas.filter { $0.insideBlock != nil }.count)
        if let address, let lookup = heap.block(containing: address) {
            self.lookup = Lookup(query: hex(address), address: hex(lookup.address), blockSize: lookup.blockSize,
                                 used: lookup.used, arena: "pymalloc arena #\(lookup.arena)", offset: address - lookup.address)
        }
        warnings = WarningDigest.digest(heap.warnings)
    }
}
