import Allocators
import ELFCore
import Regions
import Symbols

/// How `types` counts objects. With a known allocator, an object is a used allocation whose
/// first word is a primary vtable address point: counts are exact and sizes are the
/// allocator's. Without one (or when memory other than the heap is asked for), every word of
/// the selected regions is scanned for vptrs instead.
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
                var regionIndex = 0
                // Streamed, not collected: a list of every used allocation would cost 16 bytes each.
                let census = TypeCensus.count(identifier: identifier) { visit in
                    for allocation in table.allocations where allocation.isUsed {
                        while regionIndex < selected.count && selected[regionIndex].end <= allocation.address { regionIndex += 1 }
                        guard regionIndex < selected.count, selected[regionIndex].contains(allocation.address) else { continue }
                        visit(allocation.address, allocation.usableSize)
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
