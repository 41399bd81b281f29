import ELFCore
import Regions

/// CPython's small-object allocator read from a core without symbols: every pool found by its
/// header at a pool-aligned address of anonymous writable memory, grouped into arenas by the
/// headers' arena index, each used pool's blocks split into used and free by its free list.
///
/// obmalloc's own tables (`arenas`, `usedpools`) are static variables, named only by debuginfo;
/// the pool headers alone give everything `sys._debugmallocstats()` prints per size class.
public struct PymallocHeap: Sendable {
    public struct SizeClass: Sendable, Equatable {
        public let index: Int
        public let blockSize: UInt64
        /// Pools of this class with blocks in use.
        public var pools = 0
        public var usedBlocks = 0
        /// Free blocks of those pools, carved or not (`_debugmallocstats`' "avail blocks").
        public var availableBlocks = 0
    }

    public struct Arena: Sendable, Equatable {
        /// The header's `arenaindex`.
        public let index: UInt32
        /// From the first pool to the end of the last, or of the 63 pools every arena has.
        public let range: Range<UInt64>
        public let usedPools: Int
        /// Pools emptied and kept for reuse (their headers stay).
        public let emptyPools: Int
        public let usedBlocks: Int
        public let usedBytes: UInt64
    }

    public let detection: PymallocDetection
    public let layout: PymallocLayout
    /// Pools with blocks in use, by address.
    public let pools: [PymallocPool]
    public let arenas: [Arena]
    public let sizeClasses: [SizeClass]
    public let warnings: [String]
    public var method: String { "pool headers found in anonymous memory (no symbols)" }
    public var allocatorName: String { "pymalloc (\(detection.interpreterName))" }

    public var usedBlocks: Int { sizeClasses.reduce(0) { $0 + $1.usedBlocks } }
    public var usedBytes: UInt64 { sizeClasses.reduce(0) { $0 + UInt64($1.usedBlocks) * $1.blockSize } }

    private let memory: AddressSpace

    /// The pymalloc heap of a CPython core, nil for any other program.
    public static func read(core: CoreFile, regions: RegionMap) -> PymallocHeap? {
        guard let detection = PymallocDetection.detect(in: core) else { return nil }
        return read(memory: core.addressSpace, regions: regions, detection: detection)
    }

    static func read(memory: AddressSpace, regions: RegionMap, detection: PymallocDetection) -> PymallocHeap {
        let (layout, checked) = PymallocLayout.forVersion(major: detection.major, minor: detection.minor)
        var warnings: [String] = []
        if !checked {
            warnings.append("\(detection.interpreterName)'s pymalloc is read with the layout of 3.\(layout == .largePools ? "10–3.13" : "8–3.9") (\(layout.poolSize >> 10) KiB pools), checked on 3.11 only")
        }
        var found: [PymallocPool] = []
        var empty: [PymallocPool] = []
        // Only addresses: most rejected places are not pools at all, and their reasons are
        // spelled out only for those between an arena's pools.
        var rejected: [UInt64] = []
        var zeroed: [UInt64] = []
        for region in regions.regions where region.label == .heap && region.presentEnd > region.start {
            let firstSlot = (region.start &+ layout.poolSize &- 1) & ~(layout.poolSize - 1)
            guard firstSlot >= region.start else { continue }
            var slot = firstSlot
            while slot < region.presentEnd, region.presentEnd - slot >= layout.poolSize {
                let header = UnsafeRawBufferPointer(rebasing: region.bytes[Int(slot - region.start)..<Int(slot - region.start + layout.poolOverhead)])
                switch PymallocPool.decode(header, at: slot, layout: layout) {
                case .pool(let pool): if pool.headerCount > 0 { found.append(pool) } else { empty.append(pool) }
                case .invalid: rejected.append(slot)
                case .zero: zeroed.append(slot)
                }
                slot += layout.poolSize
            }
        }
        if found.isEmpty && empty.isEmpty {
            warnings.append("no pymalloc pool found: the interpreter ran with PYTHONMALLOC=malloc (or another allocator), or its arenas are not in the core")
        }
        let arenaSpans = Self.arenaSpans(pools: found + empty, layout: layout, warnings: &warnings)
        // A header that fails its checks between pools of one arena was a pool too (pools are
        // carved in order and keep their headers): its blocks are lost, and that is said.
        var hint = -1
        for address in rejected {
            if let position = arenaSpans.index(containing: address, start: \.range.lowerBound, end: \.range.upperBound),
               let header = memory.view(at: address, count: Int(layout.poolOverhead), hint: &hint),
               case .invalid(let reason) = PymallocPool.decode(header, at: address, layout: layout) {
                warnings.append("pymalloc pool \(hex(address)) in arena #\(arenaSpans[position].index) has a damaged header (\(reason)); its blocks are not counted")
            }
        }
        // Zeros are a pool never carved, unless pools of the same arena follow it.
        for address in zeroed {
            if let position = arenaSpans.index(containing: address, start: \.range.lowerBound, end: \.range.upperBound),
               address < arenaSpans[position].carvedEnd {
                warnings.append("pymalloc pool \(hex(address)) in arena #\(arenaSpans[position].index) has a zeroed header between carved pools; its blocks are not counted")
            }
        }
        var pools = found
        var classes = (0..<layout.sizeClassCount).map { SizeClass(index: $0, blockSize: layout.blockSize(ofClass: $0)) }
        FreeBlockMap.with(layout: layout) { freeBlocks in
            for index in pools.indices {
                let pool = pools[index]
                guard let bytes = memory.view(at: pool.address, count: Int(layout.poolSize), hint: &hint) else {
                    warnings.append("pymalloc pool \(hex(pool.address)) is not entirely in the core; its header's \(pool.headerCount) blocks in use are counted")
                    continue
                }
                let (free, damage) = freeBlocks.fill(from: pool, bytes: bytes, layout: layout)
                pools[index].used = pool.carved - free
                if let damage { warnings.append("pymalloc pool \(hex(pool.address)) (\(layout.blockSize(ofClass: pool.sizeClass))-byte blocks): \(damage)") }
                if pools[index].used != pool.headerCount {
                    warnings.append("pymalloc pool \(hex(pool.address)): its header counts \(pool.headerCount) blocks in use, its free list leaves \(pools[index].used)")
                }
            }
        }
        for pool in pools {
            classes[pool.sizeClass].pools += 1
            classes[pool.sizeClass].usedBlocks += pool.used
            classes[pool.sizeClass].availableBlocks += layout.capacity(ofClass: pool.sizeClass) - pool.used
        }
        let arenas = Self.arenas(arenaSpans, used: pools, empty: empty, layout: layout)
        return PymallocHeap(detection: detection, layout: layout, pools: pools, arenas: arenas, sizeClasses: classes,
                            warnings: warnings, memory: memory)
    }

    private init(detection: PymallocDetection, layout: PymallocLayout, pools: [PymallocPool], arenas: [Arena],
                 sizeClasses: [SizeClass], warnings: [String], memory: AddressSpace) {
        self.detection = detection
        self.layout = layout
        self.pools = pools
        self.arenas = arenas
        self.sizeClasses = sizeClasses
        self.warnings = warnings
        self.memory = memory
    }

    /// Each span's pools counted; `used` and `empty` are in address order, as the spans are.
    /// An arena as its pools place it: `range` is its memory, `carvedEnd` the end of its last
    /// pool with a header.
    struct ArenaSpan {
        let index: UInt32
        var range: Range<UInt64>
        let carvedEnd: UInt64
    }

    private static func arenas(_ spans: [ArenaSpan], used: [PymallocPool], empty: [PymallocPool],
                               layout: PymallocLayout) -> [Arena] {
        var usedCursor = 0
        var emptyCursor = 0
        return spans.map { span in
            var usedPools = 0, emptyPools = 0, blocks = 0
            var bytes: UInt64 = 0
            while usedCursor < used.count && used[usedCursor].address < span.range.upperBound {
                let pool = used[usedCursor]
                usedCursor += 1
                guard pool.address >= span.range.lowerBound, pool.arenaIndex == span.index else { continue }
                usedPools += 1
                blocks += pool.used
                bytes += UInt64(pool.used) * layout.blockSize(ofClass: pool.sizeClass)
            }
            while emptyCursor < empty.count && empty[emptyCursor].address < span.range.upperBound {
                if empty[emptyCursor].address >= span.range.lowerBound && empty[emptyCursor].arenaIndex == span.index { emptyPools += 1 }
                emptyCursor += 1
            }
            return Arena(index: span.index, range: span.range, usedPools: usedPools, emptyPools: emptyPools,
                         usedBlocks: blocks, usedBytes: bytes)
        }
    }

    /// Each arena's memory, from the pools naming it: the first pool to the end of the last, at
    /// least the 63 pools an arena holds when its start is not pool-aligned (pymalloc carves
    /// pools in address order, so the ones after the last carved pool are untouched).
    private static func arenaSpans(pools: [PymallocPool], layout: PymallocLayout,
                                   warnings: inout [String]) -> [ArenaSpan] {
        var bounds: [UInt32: (low: UInt64, high: UInt64)] = [:]
        for pool in pools {
            let end = pool.address + layout.poolSize
            if let known = bounds[pool.arenaIndex] {
                bounds[pool.arenaIndex] = (min(known.low, pool.address), max(known.high, end))
            } else {
                bounds[pool.arenaIndex] = (pool.address, end)
            }
        }
        var spans: [ArenaSpan] = []
        for (index, bound) in bounds {
            if bound.high - bound.low > layout.arenaSize {
                warnings.append("pymalloc pools naming arena #\(index) span \(bound.high - bound.low) bytes from \(hex(bound.low)), more than an arena (\(layout.arenaSize)); some header's arena index is wrong")
            }
            let (least, overflow) = bound.low.addingReportingOverflow(layout.arenaSize - layout.poolSize)
            spans.append(ArenaSpan(index: index, range: bound.low..<max(bound.high, overflow ? bound.high : least), carvedEnd: bound.high))
        }
        spans.sort { $0.range.lowerBound < $1.range.lowerBound }
        // Spans stretched to 63 pools may reach into the next arena's first pool.
        for position in spans.indices.dropLast() where spans[position].range.upperBound > spans[position + 1].range.lowerBound {
            let clipped = max(spans[position].range.lowerBound, spans[position + 1].range.lowerBound)
            spans[position].range = spans[position].range.lowerBound..<clipped
        }
        return spans
    }

    /// Every carved block of every used pool: used unless on its pool's free list. Blocks of
    /// emptied pools and never-carved blocks are not listed (pymalloc holds them for reuse).
    public func allocationTable() -> AllocationTable {
        let total = pools.reduce(0) { $0 + $1.carved }
        var arenaOfPool = 0
        var hint = -1
        let list = FreeBlockMap.with(layout: layout) { freeBlocks in
            AllocationList(unsafeUninitializedCapacity: total) { buffer, count in
                for pool in pools {
                    guard let bytes = memory.view(at: pool.address, count: Int(layout.poolSize), hint: &hint) else { continue }
                    while arenaOfPool < arenas.count && arenas[arenaOfPool].range.upperBound <= pool.address { arenaOfPool += 1 }
                    let arena: Int32 = arenaOfPool < arenas.count && arenas[arenaOfPool].range.contains(pool.address)
                        && arenaOfPool <= Int(Allocation.maximumArena) ? Int32(arenaOfPool) : -1
                    _ = freeBlocks.fill(from: pool, bytes: bytes, layout: layout)
                    let size = layout.blockSize(ofClass: pool.sizeClass)
                    var address = pool.address + layout.poolOverhead
                    for block in 0..<pool.carved {
                        buffer[count] = Allocation(address: address, usableSize: size, blockSize: size,
                                                   isUsed: !freeBlocks.isFree(block), arena: arena)
                        count += 1
                        address += size
                    }
                }
            }
        }
        return AllocationTable(allocator: allocatorName, method: method,
                               arenas: arenas.map { "pymalloc arena #\($0.index) \(hex($0.range.lowerBound))" },
                               allocations: list, warnings: warnings, managedRanges: arenas.map(\.range))
    }
}

extension PymallocHeap {
    /// The carved block of a used pool holding `address`, whether the program holds it, and its
    /// arena's index.
    public func block(containing address: UInt64) -> (address: UInt64, blockSize: UInt64, used: Bool, arena: UInt32)? {
        let poolAddress = address & ~(layout.poolSize - 1)
        let position = pools.firstIndex(keyAtLeast: poolAddress) { $0.address }
        guard position < pools.count, pools[position].address == poolAddress else { return nil }
        let pool = pools[position]
        let size = layout.blockSize(ofClass: pool.sizeClass)
        let offset = address - poolAddress
        guard offset >= layout.poolOverhead else { return nil }
        let block = Int((offset - layout.poolOverhead) / size)
        guard block < pool.carved else { return nil }
        var hint = -1
        guard let bytes = memory.view(at: pool.address, count: Int(layout.poolSize), hint: &hint) else { return nil }
        let isFree = FreeBlockMap.with(layout: layout) { freeBlocks in
            _ = freeBlocks.fill(from: pool, bytes: bytes, layout: layout)
            return freeBlocks.isFree(block)
        }
        return (poolAddress + layout.poolOverhead + UInt64(block) * size, size, !isFree, pool.arenaIndex)
    }
}
