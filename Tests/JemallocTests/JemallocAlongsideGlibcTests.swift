import Allocators
import Analysis
import ELFCore
import Foundation
import Regions
import Testing
import TestFixtures

/// libjemalloc mapped and initialised while glibc malloc serves the program: heapscan must not
/// describe the process by jemalloc's few start-up extents.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb (make test installs them)"))
struct JemallocAlongsideGlibcTests {
    @Test func glibcObjectsAreAllInTheTableAndHeapShowsGlibc() throws {
        let sample = try SampleCores.core("magic-jemalloc-loaded")
        let core = try CoreFile(path: sample.path)
        let regions = RegionMap(core: core)
        #expect(JemallocDetection.detect(in: core) != nil)
        #expect(ProcessAllocator.glibcMallocInUse(core: core, regions: regions))
        let table = ProcessAllocator.allocationTable(core: core, regions: regions)
        #expect(table.allocator == "jemalloc 5.3.0 and glibc 2.36")
        var planted = 0
        for magic in sample.truth["magics"] as? [[String: Any]] ?? [] {
            for key in ["addresses", "anchored_addresses"] {
                for address in (magic[key] as? [Any] ?? []).compactMap(truthAddress) {
                    planted += 1
                    #expect(table.allocation(containing: address)?.isUsed == true, "\(hex(address))")
                }
            }
        }
        #expect(planted >= 10)
        let glibcOnly = GlibcHeap.walk(core: core, regions: regions).table
        #expect(table.allocations.count > glibcOnly.allocations.count)
        #expect(Set(glibcOnly.allocations.map(\.address)).isSubset(of: Set(table.allocations.map(\.address))))

        let heap = try HeapscanProcess.run(["heap", sample.path])
        #expect(heap.status == 0 && !heap.crashed)
        #expect(heap.stdout.hasPrefix("allocator  glibc"))
        #expect(heap.stderr.contains("jemalloc 5.3.0 is loaded but holds only"))
    }

    @Test func pureJemallocProcessHasNoGlibcArena() throws {
        let core = try CoreFile(path: try SampleCores.core("jemalloc").path)
        #expect(!ProcessAllocator.glibcMallocInUse(core: core, regions: RegionMap(core: core)))
    }
}
