import ELFCore
import Regions

/// The allocator a process used, chosen from the core, so commands that need allocations work
/// the same on glibc malloc and jemalloc. A process can have both: libjemalloc pulled in by a
/// library while glibc's malloc still serves the program (jemalloc's constructor then makes a
/// few extents of its own), or jemalloc used through its own API next to glibc malloc. glibc's
/// `main_arena` only looks like an arena once glibc malloc has run, which tells the cases apart.
public enum ProcessAllocator {
    /// True when glibc's `main_arena` has been initialised, i.e. glibc malloc served something.
    /// Only libc's data is searched: cheap, and enough for a glibc that has run. A main_arena
    /// damaged beyond recognition must not silently drop glibc's heap: a brk heap whose chunks
    /// chain to a top chunk shows glibc malloc ran too (the walk then says main_arena is missing).
    public static func glibcMallocInUse(core: CoreFile, regions: RegionMap) -> Bool {
        let locator = GlibcArenaLocator(memory: core.addressSpace, regions: regions)
        return locator.findMainArena(knownAddress: nil, searchAnonymous: false) != nil
            || locator.brkHeapByWalking(outside: []) != nil
    }

    /// Which allocator `heap` should describe.
    public enum HeapChoice: Sendable {
        /// jemalloc's own statistics; `note` mentions glibc malloc when it holds something too.
        case jemalloc(JemallocHeap, note: String?)
        /// glibc malloc, with a note saying why jemalloc (loaded) is not shown, and the walk when
        /// deciding already needed it (so the caller does not walk twice).
        case glibc(GlibcHeapResult?, note: String?)
    }

    /// jemalloc when it is loaded and holds at least as many bytes as glibc malloc, else glibc.
    /// Throws when jemalloc is the process's allocator but its structures cannot be read.
    public static func heapChoice(core: CoreFile, regions: RegionMap, knownMainArena: UInt64? = nil) throws -> HeapChoice {
        guard let detection = JemallocDetection.detect(in: core) else { return .glibc(nil, note: nil) }
        let glibcInUse = glibcMallocInUse(core: core, regions: regions)
        let heap: JemallocHeap
        do {
            heap = try JemallocHeap.read(core: core, detection: detection)
        } catch JemallocError.extentMapNotFound where glibcInUse {
            return .glibc(nil, note: "\(detection.allocatorName) is loaded but its extent map was not found; showing glibc malloc")
        }
        guard glibcInUse else { return .jemalloc(heap, note: nil) }
        let jemallocBytes = heap.allocationTable().allocations.reduce(UInt64(0)) { $0 + ($1.isUsed ? $1.blockSize : 0) }
        let walked = GlibcHeap.walk(core: core, regions: regions, knownMainArena: knownMainArena)
        let used = walked.table.allocations.filter(\.isUsed)
        let glibcBytes = used.reduce(UInt64(0)) { $0 + $1.blockSize }
        if glibcBytes > jemallocBytes {
            return .glibc(walked, note: "\(detection.allocatorName) is loaded but holds only \(jemallocBytes) bytes; showing glibc malloc, which holds \(glibcBytes)")
        }
        return .jemalloc(heap, note: "glibc malloc also holds \(glibcBytes) bytes in \(used.count) allocations; showing jemalloc")
    }

    /// Every allocation of whichever allocators the process used. `knownMainArena` is glibc's
    /// `main_arena` from libc's symbols, when debuginfo gives it (checked before it is used).
    public static func allocationTable(core: CoreFile, regions: RegionMap, knownMainArena: UInt64? = nil) -> AllocationTable {
        walk(core: core, regions: regions, knownMainArena: knownMainArena).table
    }

    /// The allocation table, and jemalloc's heap when it was read for it: what else needs that
    /// heap (its profiling records) takes it from here rather than read the extent map again.
    /// A CPython process's pymalloc blocks are in the table too, in place of any malloc block
    /// holding a pymalloc arena.
    public static func walk(core: CoreFile, regions: RegionMap,
                            knownMainArena: UInt64? = nil) -> (table: AllocationTable, jemalloc: JemallocHeap?) {
        let (table, jemalloc) = walkMalloc(core: core, regions: regions, knownMainArena: knownMainArena)
        guard let pymalloc = PymallocHeap.read(core: core, regions: regions), !pymalloc.pools.isEmpty else { return (table, jemalloc) }
        return (table.holding(pymalloc.allocationTable()), jemalloc)
    }

    private static func walkMalloc(core: CoreFile, regions: RegionMap,
                                   knownMainArena: UInt64?) -> (table: AllocationTable, jemalloc: JemallocHeap?) {
        guard let detection = JemallocDetection.detect(in: core) else {
            return (GlibcHeap.walk(core: core, regions: regions, knownMainArena: knownMainArena).table, nil)
        }
        let glibcInUse = glibcMallocInUse(core: core, regions: regions)
        let heap: JemallocHeap
        do {
            heap = try JemallocHeap.read(core: core, detection: detection)
        } catch JemallocError.extentMapNotFound(let detail) where glibcInUse {
            let glibc = GlibcHeap.walk(core: core, regions: regions, knownMainArena: knownMainArena).table
            return (glibc.adding(warnings: ["\(detection.allocatorName) is loaded but its extent map was not found (\(detail)); only glibc malloc is walked"]), nil)
        } catch {
            // The process used jemalloc: glibc's arenas would describe only its own start-up
            // allocations, so say why there is no table rather than walk them.
            return (AllocationTable(allocator: detection.allocatorName, method: "none", arenas: [],
                                    allocations: [], warnings: ["\(error)"]), nil)
        }
        let jemalloc = heap.allocationTable()
        guard glibcInUse else { return (jemalloc, heap) }
        return (jemalloc.merged(with: GlibcHeap.walk(core: core, regions: regions, knownMainArena: knownMainArena).table), heap)
    }
}

extension AllocationTable {
    func adding(warnings extra: [String]) -> AllocationTable {
        AllocationTable(allocator: allocator, method: method, arenas: arenas, allocations: allocations,
                        warnings: warnings + extra, managedRanges: managedRanges)
    }

    /// True when `address` lies in one of `managedRanges` (sorted, disjoint), O(log n).
    func managesAddress(_ address: UInt64) -> Bool {
        managedRanges.index(containing: address, start: \.lowerBound, end: \.upperBound) != nil
    }

    /// This table with a sub-allocator's (`inner`, e.g. pymalloc's) as one: an allocation of
    /// this table that overlaps memory `inner` manages is the block the sub-allocator carved
    /// its arena from, and is replaced by the sub-allocator's blocks (said in a warning), so
    /// the table stays disjoint and a pointer into the arena names the object it points at.
    public func holding(_ inner: AllocationTable) -> AllocationTable {
        let ranges = inner.managedRanges
        var combined = AllocationList()
        combined.reserveCapacity(allocations.count + inner.allocations.count)
        var replaced = 0
        var cursor = 0
        for allocation in allocations {
            while cursor < ranges.count && ranges[cursor].upperBound <= allocation.address { cursor += 1 }
            // The usable bytes, not the block: a glibc mmapped chunk's block reaches 16 bytes
            // past its user bytes, into the mapping after it, which may be an arena.
            if cursor < ranges.count && ranges[cursor].lowerBound < allocation.end {
                replaced += 1
                continue
            }
            combined.append(allocation)
        }
        let offset = Int32(arenas.count)
        for allocation in inner.allocations {
            var moved = allocation
            if moved.arena >= 0 { moved.arena = moved.arena + offset <= Allocation.maximumArena ? moved.arena + offset : -1 }
            combined.append(moved)
        }
        var notes = warnings + inner.warnings
        if replaced > 0 { notes.append("\(replaced) \(allocator) blocks hold \(inner.allocator) arenas; their \(inner.allocator) blocks are listed instead") }
        // Ranges already inside this allocator's (arenas carved from its heap) are covered by them.
        let added = ranges.filter { !managesAddress($0.lowerBound) }
        var table = AllocationTable(allocator: "\(allocator) and \(inner.allocator)", method: "\(method); \(inner.method)",
                                    arenas: arenas + inner.arenas, allocations: combined, warnings: notes,
                                    managedRanges: managedRanges + added, allocatorState: allocatorState + inner.allocatorState)
        table.places = places
        return table
    }

    /// Both tables as one: arenas listed one after the other; an allocation of `other` that
    /// falls in memory this table's allocator manages is dropped (it cannot be both).
    func merged(with other: AllocationTable) -> AllocationTable {
        let offset = Int32(arenas.count)
        var dropped = 0
        var combined = allocations
        combined.reserveCapacity(allocations.count + other.allocations.count)
        for allocation in other.allocations {
            if managesAddress(allocation.address) {
                dropped += 1
                continue
            }
            var moved = allocation
            if moved.arena >= 0 { moved.arena = moved.arena + offset <= Allocation.maximumArena ? moved.arena + offset : -1 }
            combined.append(moved)
        }
        var notes = warnings + other.warnings
        if dropped > 0 { notes.append("\(dropped) \(other.allocator) chunks inside \(allocator) extents were ignored") }
        return AllocationTable(allocator: "\(allocator) and \(other.allocator)", method: "\(method); \(other.method)",
                               arenas: arenas + other.arenas, allocations: combined, warnings: notes,
                               managedRanges: managedRanges + other.managedRanges)
    }
}
