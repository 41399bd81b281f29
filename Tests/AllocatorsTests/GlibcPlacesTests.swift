import Allocators
import ELFCore
import Regions
import Testing
import TestFixtures

/// The free list `show` names for each cached chunk: every chunk in a thread's tcache bin i is
/// 32 + 16 i bytes, and per thread they add up to the walker's own tcache census.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct GlibcPlacesTests {
    @Test func cachedChunksAreInTheirThreadsBins() throws {
        let core = try CoreFile(path: try SampleCores.core("service").path)
        let result = GlibcHeap.walk(core: core, regions: RegionMap(core: core))
        let table = result.table
        var perThread: [Int32: Int] = [:]
        var fastbinned = 0
        for allocation in table.allocations where !allocation.isUsed {
            guard let list = table.places.freeList(ofChunkAt: allocation.address) else { continue }
            if list.hasPrefix("fastbin") {
                fastbinned += 1
                continue
            }
            let parts = list.split(separator: " ")
            let thread = try #require(Int32(parts[1].dropLast(2)), "\(list)")
            let bin = try #require(Int(parts.last!), "\(list)")
            #expect(allocation.blockSize == UInt64(32 + 16 * bin), "\(list): block \(allocation.blockSize)")
            perThread[thread, default: 0] += 1
        }
        #expect(result.tcaches.count == 5)
        for tcache in result.tcaches {
            #expect(perThread[tcache.threadID ?? -1, default: 0] == Int(tcache.chunks), "thread \(tcache.threadID ?? -1)")
        }
        #expect(fastbinned == Int(result.free.fastbinChunks))
    }
}
