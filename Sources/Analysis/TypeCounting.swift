import Allocators
import ELFCore
import Regions
import Symbols

/// How `types` counts objects. With a known allocator, an object is a used allocation whose
/// first word is a primary vtable address point: counts are exact and sizes are the
/// allocator's. An allocation whose first word is no vptr holds an object behind an allocator
/// header when a vptr recurs at one small offset in blocks of its size (`ObjectOffsets`).
/// Without an allocator (or when memory other than the heap is asked for), every word of the
/// selected regions is scanned for vptrs instead.
public enum TypeCounting {
    public struct Result {
        public let census: TypeCensus
        /// "allocations (glibc 2.36)" or "heap words".
        public let method: String
        public let warnings: [String]
    }

    public static func census(core: CoreFile, regions: RegionMap, selection: RegionSelection,
                              identifier: TypeIdentifier, forceScan: Bool = false) -> Result {
        if !forceScan && selection.labels == [.heap] {
            let table = ProcessAllocator.allocationTable(core: core, regions: regions,
                                                         knownMainArena: GlibcHeap.mainArenaSymbol(in: identifier.modules))
            if !table.allocations.isEmpty {
                let selected = regions.select(selection)
                let offsets = ObjectOffsets(table: table, memory: core.addressSpace, vtableRanges: regions.moduleRanges) {
                    identifier.primaryClass(of: $0) != nil
                }
                let memory = core.addressSpace
                var regionIndex = 0
                var hint = -1
                // Streamed, not collected: a list of every used allocation would cost 16 bytes each.
                let census = TypeCensus.count(identifier: identifier) { visit in
                    for allocation in table.allocations where allocation.isUsed {
                        while regionIndex < selected.count && selected[regionIndex].end <= allocation.address { regionIndex += 1 }
                        guard regionIndex < selected.count, selected[regionIndex].contains(allocation.address) else { continue }
                        if !offsets.isEmpty, let offset = offsets.offset(ofBlockSize: allocation.blockSize),
                           offset + 8 <= allocation.usableSize,
                           let first = memory.view(at: allocation.address, count: 8, hint: &hint)?.loadUnaligned(as: UInt64.self),
                           !(identifier.modules.contains(first) && identifier.primaryClass(of: first) != nil) {
                            visit(allocation.address + offset, allocation.usableSize - offset, offset)
                        } else {
                            visit(allocation.address, allocation.usableSize, 0)
                        }
                    }
                }
                return Result(census: census,
                              method: "allocations (\(table.allocator))", warnings: table.warnings)
            }
        }
        return Result(census: TypeCensus.scan(regions: regions.select(selection), identifier: identifier),
                      method: "words", warnings: [])
    }
}
