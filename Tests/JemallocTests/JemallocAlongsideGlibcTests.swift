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

    /// main_arena damaged on disk, one word: a bin's back link (main_arena still recognised,
    /// that bin lost) or its lock word (main_arena unrecognisable, the brk heap walked without
    /// it). Either way glibc is not dropped in favour of jemalloc's few extents.
    @Test(arguments: [15, 0])
    func damagedMainArenaDoesNotDropGlibc(word: Int) throws {
        let sample = try SampleCores.core("magic-jemalloc-loaded")
        let core = try CoreFile(path: sample.path)
        let intact = GlibcHeap.walk(core: core, regions: RegionMap(core: core))
        let mainArena = try #require(intact.arenas.first { $0.isMain }?.address)
        let address = mainArena + UInt64(word) * 8
        let segment = try #require(core.addressSpace.segment(containing: address))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sample.path)))
        let offset = Int(segment.fileOffset + (address - segment.start))
        bytes.replaceSubrange(offset..<(offset + 8), with: le(UInt64(0x1234_5671)))
        let path = try SyntheticCore.writeTemporary(bytes, name: "damaged-main-arena")
        defer { try? FileManager.default.removeItem(atPath: path) }

        let damaged = try CoreFile(path: path)
        #expect(ProcessAllocator.glibcMallocInUse(core: damaged, regions: RegionMap(core: damaged)))
        let walked = GlibcHeap.walk(core: damaged, regions: RegionMap(core: damaged))
        let intactUsed = intact.table.allocations.filter(\.isUsed).count
        let used = walked.table.allocations.filter(\.isUsed).count
        // Without main_arena its fastbin chunks count as used; nothing else changes.
        #expect(used >= intactUsed && used <= intactUsed + intact.free.fastbinChunks)
        #expect(walked.table.allocations.count == intact.table.allocations.count)
        let heap = try HeapscanProcess.run(["heap", path])
        #expect(heap.status == 0 && !heap.crashed, "\(heap.stderr)")
        #expect(heap.stdout.hasPrefix("allocator  glibc"), "\(heap.stdout.prefix(400))")
    }

    @Test func pureJemallocProcessHasNoGlibcArena() throws {
        let core = try CoreFile(path: try SampleCores.core("jemalloc").path)
        #expect(!ProcessAllocator.glibcMallocInUse(core: core, regions: RegionMap(core: core)))
    }
}
