import Allocators
import ELFCore
import Foundation
import Regions

/// Times the pymalloc walk on CPython cores (`heapscan-bench pymalloc CORE…`): the pool scan and
/// free-list census, then the allocation table, best of 3, next to a plain read of the anonymous
/// writable memory the scan visits. `Samples/make-core pymalloc 150000` makes a core with 2 M
/// blocks in use.
enum PymallocBench {
    static func run(corePath: String) throws {
        let core = try CoreFile(path: corePath)
        let regions = RegionMap(core: core)
        let clock = ContinuousClock()
        var heap: PymallocHeap?
        var best = (read: Duration.seconds(1000), table: Duration.seconds(1000), plain: Duration.seconds(1000))
        var checksum: UInt64 = 0
        var blocks = 0
        for _ in 0..<3 {
            best.plain = min(best.plain, clock.measure {
                for region in regions.regions where region.label == .heap { checksum &+= HeapWalkBench.plainRead(region.bytes) }
            })
            best.read = min(best.read, clock.measure { heap = PymallocHeap.read(core: core, regions: regions) })
            guard let heap else {
                print("pymalloc: \(corePath): no CPython interpreter in the core")
                return
            }
            best.table = min(best.table, clock.measure { blocks = heap.allocationTable().allocations.count })
        }
        guard let heap else { return }
        let scanned = regions.regions.filter { $0.label == .heap }.reduce(UInt64(0)) { $0 + UInt64($1.bytes.count) }
        print("pymalloc: \(heap.arenas.count) arenas, \(heap.pools.count) used pools, \(heap.usedBlocks) blocks in use, \(blocks) listed; \(scanned >> 20) MiB of anonymous memory")
        let walk = HeapWalkBench.seconds(best.read)
        print(String(format: "  pools and free lists %.3f s (%.1f M blocks/s); table %.3f s; plain read %.3f s (checksum %llx)",
                     walk, Double(heap.usedBlocks) / walk / 1e6, HeapWalkBench.seconds(best.table),
                     HeapWalkBench.seconds(best.plain), checksum))
    }
}
