import ELFCore

/// What `heapscan heap` shows: arenas, totals, and the size histogram that answers "which
/// chunk size holds the memory". Built from a walk; the CLI only renders it.
public struct HeapReport: Codable, Sendable {
    public struct Arena: Codable, Sendable {
        /// `main_arena 0x…` or `arena 0x…`: the name `show` and `leaks` give the arena.
        public var arena: String
        public var address: String
        public var heaps: [String]
        /// Bytes of the arena's heaps as walked (what mallinfo2 calls `arena` for it).
        public var systemBytes: UInt64
        public var top: String
        public var topSize: UInt64
        public var usedAllocations: Int
        public var usedBytes: UInt64
        public var freeChunks: Int
        public var freeBytes: UInt64
    }

    public struct Totals: Codable, Sendable {
        public var usedAllocations = 0
        /// Chunk bytes of used allocations.
        public var usedBytes: UInt64 = 0
        /// Bytes the program may use in them (malloc_usable_size summed).
        public var usableBytes: UInt64 = 0
        /// Free chunks (tcache, fastbins, bins), top excluded.
        public var freeChunks = 0
        public var freeBytes: UInt64 = 0
        public var mmappedChunks = 0
        public var mmappedBytes: UInt64 = 0
        /// Chunk headers of used allocations plus malloc's own structures (heap_info,
        /// malloc_state, tcache_perthread_struct, fenceposts).
        public var overheadBytes: UInt64 = 0
        /// Arena heap bytes plus mmapped bytes: what malloc got from the kernel.
        public var systemBytes: UInt64 = 0
    }

    /// One chunk size: how many allocations, how many bytes, and their share of the total.
    public struct SizeRow: Codable, Sendable, Equatable {
        public var chunkSize: UInt64
        public var count: Int
        public var bytes: UInt64
        /// Fraction of all used (or, in `freeSizes`, free) chunk bytes.
        public var share: Double
    }

    public struct FreeSide: Codable, Sendable {
        public var tcacheChunks: Int
        public var tcacheBytes: UInt64
        public var fastbinChunks: Int
        public var fastbinBytes: UInt64
        public var unsortedChunks: Int
        public var unsortedBytes: UInt64
        public var smallbinChunks: Int
        public var smallbinBytes: UInt64
        public var largebinChunks: Int
        public var largebinBytes: UInt64
        public var topChunks: Int
        public var topBytes: UInt64
        public var tcaches: [Tcache]
        public var sizes: [SizeRow]
    }

    public struct Tcache: Codable, Sendable {
        public var address: String
        public var thread: Int32?
        public var chunks: Int
        public var bytes: UInt64
    }

    /// The allocation containing an address asked about with `--address`.
    public struct Lookup: Codable, Sendable {
        public var query: String
        public var found: Bool
        public var address: String?
        public var usableSize: UInt64?
        public var chunkSize: UInt64?
        public var used: Bool?
        public var arena: String?
        public var offset: UInt64?
    }

    /// The core file's path, as every command's JSON names it (set by the caller).
    public var core = ""
    public var allocator: String
    public var method: String
    public var safeLinking: Bool?
    public var arenas: [Arena]
    public var totals: Totals
    /// Distinct chunk sizes among used allocations (the histogram may show fewer).
    public var distinctSizes: Int
    public var sizes: [SizeRow]
    public var free: FreeSide?
    public var mallinfo: GlibcMallinfo
    public var lookup: Lookup?
    /// A CPython process's small-object allocator, beside its malloc.
    public var pymalloc: PymallocReport?
    public var warnings: [String]

    /// `top`: histogram rows kept (0 keeps all). `includeFree` adds the free side.
    /// `coreWarnings` (what the core reader found wrong with the file) come first in `warnings`.
    public init(result: GlibcHeapResult, top: Int, includeFree: Bool, address: UInt64? = nil,
                coreWarnings: [String] = []) {
        let table = result.table
        var totals = Totals()
        var perArena = [(used: Int, usedBytes: UInt64, free: Int, freeBytes: UInt64)](
            repeating: (0, 0, 0, 0), count: result.arenas.count + 1)
        var usedSizes = SizeCounter()
        var freeSizes = SizeCounter()
        for allocation in table.allocations {
            let arena = Int(allocation.arena)
            let slot = arena >= 0 && arena < perArena.count ? arena : perArena.count - 1
            if allocation.isUsed {
                totals.usedAllocations += 1
                totals.usedBytes += allocation.blockSize
                totals.usableBytes += allocation.usableSize
                perArena[slot].used += 1
                perArena[slot].usedBytes += allocation.blockSize
                usedSizes.add(allocation.blockSize)
            } else {
                totals.freeChunks += 1
                totals.freeBytes += allocation.blockSize
                perArena[slot].free += 1
                perArena[slot].freeBytes += allocation.blockSize
                if includeFree { freeSizes.add(allocation.blockSize) }
            }
        }
        totals.mmappedChunks = result.mmappedChunks
        totals.mmappedBytes = result.mmappedBytes
        totals.overheadBytes = (totals.usedBytes - totals.usableBytes) + result.arenas.reduce(0) { $0 + $1.internalBytes }
        totals.systemBytes = result.mallinfo.arena + result.mmappedBytes

        allocator = table.allocator
        method = table.method
        safeLinking = result.safeLinking
        arenas = result.arenas.enumerated().map { index, arena in
            Arena(arena: index < table.arenas.count ? table.arenas[index] : hex(arena.address),
                  address: hex(arena.address),
                  heaps: arena.heaps.map { "\(hex($0.start))-\(hex($0.end))" },
                  systemBytes: arena.measuredSystemBytes, top: hex(arena.top), topSize: arena.topSize,
                  usedAllocations: perArena[index].used, usedBytes: perArena[index].usedBytes,
                  freeChunks: perArena[index].free, freeBytes: perArena[index].freeBytes)
        }
        self.totals = totals
        let usedCounts = usedSizes.counts
        distinctSizes = usedCounts.count
        sizes = Self.histogram(usedCounts, total: totals.usedBytes, top: top)
        if includeFree {
            let summary = result.free
            free = FreeSide(tcacheChunks: summary.tcacheChunks, tcacheBytes: summary.tcacheBytes,
                            fastbinChunks: summary.fastbinChunks, fastbinBytes: summary.fastbinBytes,
                            unsortedChunks: summary.unsortedChunks, unsortedBytes: summary.unsortedBytes,
                            smallbinChunks: summary.smallbinChunks, smallbinBytes: summary.smallbinBytes,
                            largebinChunks: summary.largebinChunks, largebinBytes: summary.largebinBytes,
                            topChunks: summary.topChunks, topBytes: summary.topBytes,
                            tcaches: result.tcaches.map { Tcache(address: hex($0.address), thread: $0.threadID,
                                                                 chunks: $0.chunks, bytes: $0.bytes) },
                            sizes: Self.histogram(freeSizes.counts, total: totals.freeBytes, top: top))
        }
        mallinfo = result.mallinfo
        if let address {
            if let allocation = table.allocation(containing: address) {
                let arena = Int(allocation.arena)
                lookup = Lookup(query: hex(address), found: true, address: hex(allocation.address),
                                usableSize: allocation.usableSize, chunkSize: allocation.blockSize,
                                used: allocation.isUsed,
                                arena: arena >= 0 && arena < table.arenas.count ? table.arenas[arena] : nil,
                                offset: address - allocation.address)
            } else {
                lookup = Lookup(query: hex(address), found: false)
            }
        }
        warnings = coreWarnings + table.warnings
    }

    /// Rows sorted by bytes (then size), keeping `top` of them (all when `top` is 0).
    static func histogram(_ counts: [UInt64: Int], total: UInt64, top: Int) -> [SizeRow] {
        let rows = counts.map { size, count in
            SizeRow(chunkSize: size, count: count, bytes: size * UInt64(count),
                    share: total == 0 ? 0 : Double(size * UInt64(count)) / Double(total))
        }.sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.chunkSize < $1.chunkSize }
        return top > 0 ? Array(rows.prefix(top)) : rows
    }
}

/// Counts per block size without hashing the common case: small 16-byte multiples (every glibc
/// chunk under 64 KiB) index an array; anything else goes to a dictionary.
private struct SizeCounter {
    private var small = [Int](repeating: 0, count: 4096)
    private var other: [UInt64: Int] = [:]

    mutating func add(_ size: UInt64) {
        if size & 15 == 0 && size < 65536 {
            small[Int(size >> 4)] += 1
        } else {
            other[size, default: 0] += 1
        }
    }

    var counts: [UInt64: Int] {
        var all = other
        for (index, count) in small.enumerated() where count > 0 { all[UInt64(index) << 4] = count }
        return all
    }
}
