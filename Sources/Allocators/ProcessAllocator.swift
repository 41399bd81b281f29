import ELFCore
import Regions

/// The allocator a process used, chosen from the core: jemalloc when it is mapped (or built in)
/// and its extent map is found, glibc malloc otherwise. Commands that need allocations ask here
/// so they work the same on both.
public enum ProcessAllocator {
    public static func allocationTable(core: CoreFile, regions: RegionMap) -> AllocationTable {
        if let detection = JemallocDetection.detect(in: core) {
            do {
                return try JemallocHeap.read(core: core, detection: detection).allocationTable()
            } catch {
                // The process used jemalloc: glibc's arenas would describe only its own
                // start-up allocations, so say why there is no table rather than walk them.
                return AllocationTable(allocator: detection.allocatorName, method: "none", arenas: [],
                                       allocations: [], warnings: ["\(error)"])
            }
        }
        return GlibcHeap.walk(core: core, regions: regions).table
    }
}
