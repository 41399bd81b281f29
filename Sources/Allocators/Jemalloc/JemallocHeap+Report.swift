import ELFCore
import ScanKernels

extension JemallocHeap {
    /// Every pointer held in any thread cache.
    var cachedPointers: Set<UInt64> {
        var set = Set<UInt64>()
        for cache in threadCaches { for bin in cache.bins { set.formUnion(bin.pointers) } }
        return set
    }

    /// Per-bin and per-class statistics, totals and thread caches, as jemalloc would print them.
    public func report(memory: AddressSpace, address query: UInt64? = nil) -> JemallocHeapReport {
        struct Key: Hashable { let arena: Int; let sizeIndex: Int }
        var regions: [Key: Int] = [:]
        var slabs: [Key: Int] = [:]
        var large: [Key: Int] = [:]
        var cached: [Key: Int] = [:]
        var totals = JemallocHeapReport.Totals(usedAllocations: 0, usedBytes: 0, allocated: 0, active: 0, metadataEstimate: 0, residentInCore: 0, mapped: 0,
                                               retained: 0, dirty: 0, muzzy: 0, dirtyExtents: 0, muzzyExtents: 0,
                                               retainedExtents: 0, slabs: 0, largeExtents: 0, cachedInThreads: 0)
        var activeByArena: [Int: UInt64] = [:]
        for extent in extents {
            let key = Key(arena: extent.arena, sizeIndex: extent.sizeIndex)
            switch extent.state {
            case .active:
                totals.active += extent.size
                activeByArena[extent.arena, default: 0] += extent.size
                if extent.isSlab, let sizeClass = classes[extent.sizeIndex] {
                    regions[key, default: 0] += sizeClass.regionsPerSlab - extent.freeCount
                    slabs[key, default: 0] += 1
                    totals.slabs += 1
                } else {
                    // jemalloc counts a promoted (sampled small) allocation in the smallest large class.
                    let isPromoted = classes[extent.sizeIndex]?.isBin == true
                    large[isPromoted ? Key(arena: extent.arena, sizeIndex: classes.binCount) : key, default: 0] += 1
                    totals.largeExtents += 1
                }
            case .dirty:
                totals.dirty += extent.size
                totals.dirtyExtents += 1
            case .muzzy:
                totals.muzzy += extent.size
                totals.muzzyExtents += 1
            case .retained:
                totals.retained += extent.size
                totals.retainedExtents += 1
            case .transition, .merging:
                break
            }
            if extent.state == .active || extent.state == .dirty || extent.state == .muzzy {
                totals.residentInCore += Self.presentBytes(memory, extent.base, extent.end)
            }
        }
        totals.mapped = totals.active + totals.dirty + totals.muzzy

        var threadCaches: [JemallocHeapReport.ThreadCache] = []
        var stackBytes: UInt64 = 0
        for cache in self.threadCaches {
            var bins: [JemallocHeapReport.CacheBin] = []
            var arenaVotes: [Int: Int] = [:]
            for bin in cache.bins {
                stackBytes += UInt64(bin.capacity) * 8
                guard !bin.pointers.isEmpty, let sizeClass = classes[bin.sizeIndex] else { continue }
                for pointer in bin.pointers {
                    guard let index = extents.extentIndex(containing: pointer) else { continue }
                    let arena = extents[index].arena
                    arenaVotes[arena, default: 0] += 1
                    cached[Key(arena: arena, sizeIndex: bin.sizeIndex), default: 0] += 1
                }
                bins.append(.init(bin: bin.sizeIndex, size: sizeClass.size, count: bin.pointers.count,
                                  capacity: bin.capacity, bytes: UInt64(bin.pointers.count) * sizeClass.size))
            }
            let bytes = bins.reduce(0) { $0 + $1.bytes }
            totals.cachedInThreads += bytes
            threadCaches.append(.init(thread: cache.thread, address: hex(cache.address),
                                      arena: arenaVotes.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }.map { Self.arenaName($0.key) },
                                      count: bins.reduce(0) { $0 + $1.count }, bytes: bytes, bins: bins))
        }
        totals.metadataEstimate = UInt64(leafAddresses.count * JemallocLayout.leafBytes)
            + UInt64(consistency.extents * JemallocLayout.edataSize) + stackBytes

        func binRow(_ sizeIndex: Int, regions: Int, slabs: Int, cached: Int) -> JemallocHeapReport.Bin {
            let sizeClass = classes[sizeIndex]!
            let capacity = slabs * sizeClass.regionsPerSlab
            return .init(bin: sizeIndex, size: sizeClass.size, regionsInUse: regions, slabs: slabs,
                         regionsPerSlab: sizeClass.regionsPerSlab, slabSize: UInt64(sizeClass.slabPages) * classes.pageSize,
                         utilisation: capacity > 0 ? Double(regions) / Double(capacity) : 0,
                         bytes: UInt64(regions) * sizeClass.size, cachedInThreads: cached)
        }
        func largeRow(_ sizeIndex: Int, count: Int, cached: Int) -> JemallocHeapReport.Large {
            let size = classes[sizeIndex]?.size ?? 0
            return .init(lextent: sizeIndex - classes.binCount, size: size, count: count,
                         bytes: UInt64(count) * size, cachedInThreads: cached)
        }
        let arenaIndices = Set(regions.keys.map(\.arena)).union(large.keys.map(\.arena)).union(activeByArena.keys).sorted()
        var arenas: [JemallocHeapReport.Arena] = []
        for arena in arenaIndices {
            let bins = slabs.keys.filter { $0.arena == arena }.map(\.sizeIndex).sorted().map { index in
                let key = Key(arena: arena, sizeIndex: index)
                return binRow(index, regions: regions[key] ?? 0, slabs: slabs[key] ?? 0, cached: cached[key] ?? 0)
            }
            let larges = large.keys.filter { $0.arena == arena }.map(\.sizeIndex).sorted().map { index in
                let key = Key(arena: arena, sizeIndex: index)
                return largeRow(index, count: large[key] ?? 0, cached: cached[key] ?? 0)
            }
            let allocated = bins.reduce(0) { $0 + $1.bytes } + larges.reduce(0) { $0 + $1.bytes }
            let used = Self.used(bins: bins, large: larges)
            arenas.append(.init(arena: Self.arenaName(arena), index: arena, bins: bins, large: larges, allocated: allocated,
                                active: activeByArena[arena] ?? 0, usedAllocations: used.allocations, usedBytes: used.bytes))
        }
        func merged<T>(_ table: [Key: T]) -> [Int: [T]] {
            var result: [Int: [T]] = [:]
            for (key, value) in table { result[key.sizeIndex, default: []].append(value) }
            return result
        }
        func total(_ table: [Key: Int], _ sizeIndex: Int) -> Int {
            table.reduce(0) { $0 + ($1.key.sizeIndex == sizeIndex ? $1.value : 0) }
        }
        let mergedBins = merged(slabs).keys.sorted().map { index in
            binRow(index, regions: total(regions, index), slabs: total(slabs, index), cached: total(cached, index))
        }.sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.bin < $1.bin }
        let mergedLarge = merged(large).keys.sorted().map { index in
            largeRow(index, count: total(large, index), cached: total(cached, index))
        }
        totals.allocated = mergedBins.reduce(0) { $0 + $1.bytes } + mergedLarge.reduce(0) { $0 + $1.bytes }
        let used = Self.used(bins: mergedBins, large: mergedLarge)
        totals.usedAllocations = used.allocations
        totals.usedBytes = used.bytes

        return JemallocHeapReport(
            allocator: detection.allocatorName, version: detection.version, library: detection.libraryPath,
            method: method, pageSize: classes.pageSize, extentMapRoot: hex(root), bins: mergedBins, large: mergedLarge,
            arenas: arenas, totals: totals, threadCaches: threadCaches, consistency: consistency, warnings: warnings,
            lookup: query.map(lookup))
    }

    /// The slab region or large allocation containing `query`.
    func lookup(_ query: UInt64) -> JemallocHeapReport.Lookup {
        var result = JemallocHeapReport.Lookup(query: hex(query))
        guard let index = extents.extentIndex(containing: query), extents[index].state == .active,
              let sizeClass = classes[extents[index].sizeIndex] else { return result }
        let extent = extents[index]
        var start = extent.address
        var used = !cachedPointers.contains(start)
        if extent.isSlab {
            guard query >= extent.address else { return result }
            let region = Int((query - extent.address) / sizeClass.size)
            guard region < sizeClass.regionsPerSlab else { return result }
            start = extent.address + UInt64(region) * sizeClass.size
            used = !extent.isRegionFree(region) && !cachedPointers.contains(start)
        } else if query < start || query >= start + sizeClass.size {
            return result
        }
        result.address = hex(start)
        result.offset = query - start
        result.size = sizeClass.size
        result.used = used
        result.kind = extent.isSlab ? "small" : "large"
        result.arena = Self.arenaName(extent.arena)
        return result
    }

    /// `arena 0`, as the allocation table names jemalloc's arenas.
    static func arenaName(_ index: Int) -> String { "arena \(index)" }

    /// What the program holds of these classes: in use, less what sits in thread caches.
    static func used(bins: [JemallocHeapReport.Bin], large: [JemallocHeapReport.Large]) -> (allocations: Int, bytes: UInt64) {
        var allocations = 0
        var bytes: UInt64 = 0
        for bin in bins {
            allocations += bin.regionsInUse - bin.cachedInThreads
            bytes += UInt64(max(0, bin.regionsInUse - bin.cachedInThreads)) * bin.size
        }
        for row in large {
            allocations += row.count - row.cachedInThreads
            bytes += UInt64(max(0, row.count - row.cachedInThreads)) * row.size
        }
        return (max(0, allocations), bytes)
    }

    var method: String {
        root == 0 ? "extent-map leaves found by voting, without their root (\(leafAddresses.count) leaves, \(consistency.extents) extents), no symbols"
            : "extent map at \(hex(root)) found by voting (\(leafAddresses.count) leaves, \(consistency.extents) extents), no symbols"
    }

    /// Bytes of `[start, end)` that the core holds.
    static func presentBytes(_ memory: AddressSpace, _ start: UInt64, _ end: UInt64) -> UInt64 {
        let segments = memory.segments
        var low = 0
        var high = segments.count
        while low < high {
            let middle = (low + high) / 2
            if segments[middle].end <= start { low = middle + 1 } else { high = middle }
        }
        var total: UInt64 = 0
        var index = low
        while index < segments.count && segments[index].start < end {
            let from = max(start, segments[index].start)
            let to = min(end, segments[index].presentEnd)
            if to > from { total += to - from }
            index += 1
        }
        return total
    }

    /// The shared allocation table: each region of each slab and each large allocation, used
    /// unless its slab bitmap marks it free or a thread cache holds it.
    public func allocationTable() -> AllocationTable {
        // Extents are sorted and disjoint, so regions come in ascending address order.
        var cached = AscendingMembership(cachedPointers)
        let arenaIndices = Set(extents.filter { $0.state == .active }.map(\.arena)).sorted()
        var position: [Int: Int32] = [:]
        for (offset, arena) in arenaIndices.enumerated() { position[arena] = Int32(offset) }
        var allocations = AllocationList()
        // Sized up front: tens of millions of regions would otherwise be copied on each doubling,
        // with old and new buffers alive together at the peak.
        allocations.reserveCapacity(extents.reduce(0) { total, extent in
            guard extent.state == .active, let sizeClass = classes[extent.sizeIndex] else { return total }
            return total + (extent.isSlab ? sizeClass.regionsPerSlab : 1)
        })
        var oversized = 0
        let progress = ProgressLine(total: extents.reduce(UInt64(0)) { $1.state == .active ? $0 &+ $1.size : $0 },
                                    label: "listing jemalloc regions")
        var unreported: UInt64 = 0
        defer {
            progress.advance(unreported)
            progress.finish()
        }
        for extent in extents where extent.state == .active {
            unreported &+= extent.size
            if unreported >= 64 << 20 {
                progress.advance(unreported)
                unreported = 0
            }
            guard let sizeClass = classes[extent.sizeIndex] else { continue }
            let arena = position[extent.arena].flatMap { $0 <= Allocation.maximumArena ? $0 : nil } ?? -1
            if extent.isSlab {
                for region in 0..<sizeClass.regionsPerSlab {
                    let address = extent.address + UInt64(region) * sizeClass.size
                    let used = !extent.isRegionFree(region) && !cached.contains(address)
                    allocations.append(Allocation(address: address, usableSize: sizeClass.size, blockSize: sizeClass.size,
                                                  isUsed: used, arena: arena))
                }
            } else if Allocation.isRepresentable(usableSize: sizeClass.size, blockSize: sizeClass.size, arena: arena) {
                allocations.append(Allocation(address: extent.address, usableSize: sizeClass.size, blockSize: sizeClass.size,
                                              isUsed: !cached.contains(extent.address), arena: arena))
            } else {
                oversized += 1
            }
        }
        var notes = warnings
        if oversized > 0 {
            notes.append("\(oversized) large extents claim a size class of 1 TiB or more; not listed as allocations")
        }
        return AllocationTable(allocator: detection.allocatorName, method: method,
                               arenas: arenaIndices.map(Self.arenaName), allocations: allocations, warnings: notes,
                               managedRanges: managedRanges, allocatorState: allocatorState(among: allocations))
    }

    /// Every extent's `edata_t` (its `e_addr` names the slab's first region, used or not) and
    /// the allocations jemalloc made for its thread caches' stacks (their slots keep pointers to
    /// regions popped long ago).
    func allocatorState(among allocations: AllocationList) -> [Range<UInt64>] {
        var ranges = extents.map { $0.edata..<($0.edata &+ UInt64(JemallocLayout.edataSize)) } + baseBlocks
        for cache in threadCaches {
            for bin in cache.bins {
                if let index = allocations.index(containing: bin.stackHead, start: \.address, end: \.end) {
                    ranges.append(allocations[index].address..<allocations[index].end)
                }
            }
        }
        return ranges
    }

    /// Extents holding or having held allocations (active, dirty, muzzy), adjacent ones joined.
    var managedRanges: [Range<UInt64>] {
        var ranges: [Range<UInt64>] = []
        for extent in extents where extent.state == .active || extent.state == .dirty || extent.state == .muzzy {
            if let last = ranges.last, last.upperBound == extent.base {
                ranges[ranges.count - 1] = last.lowerBound..<extent.end
            } else {
                ranges.append(extent.base..<extent.end)
            }
        }
        return ranges
    }
}
