import Allocators
import ELFCore
import Foundation
import Regions

/// Times the glibc heap walk (and the `heapscan heap` report built from it) on the core named
/// by HEAPSCAN_BENCH_HEAP_CORE, next to a plain read of the same heap bytes, so the number says
/// how close the walk is to memory speed. Make a core with ≥ 4 M allocations with
/// `Samples/make-core magic 2000000 2000000 0 0`.
enum HeapWalkBench {
    static func run() {
        guard let path = ProcessInfo.processInfo.environment["HEAPSCAN_BENCH_HEAP_CORE"] else {
            print("heap walk: skipped (set HEAPSCAN_BENCH_HEAP_CORE to a glibc core)")
            return
        }
        do {
            let core = try CoreFile(path: path)
            let regions = RegionMap(core: core)
            let clock = ContinuousClock()
            var result: GlibcHeapResult?
            let walkTime = clock.measure { result = GlibcHeap.walk(core: core, regions: regions) }
            guard let result else { return }
            let reportTime = clock.measure { _ = HeapReport(result: result, top: 20, includeFree: true) }
            let heapBytes = result.arenas.reduce(UInt64(0)) { $0 + $1.measuredSystemBytes }
            var checksum: UInt64 = 0
            let readTime = clock.measure {
                for arena in result.arenas {
                    for heap in arena.heaps {
                        guard let segment = core.addressSpace.segment(containing: heap.start),
                              let view = segment.view(at: heap.start, count: Int(min(heap.end, segment.presentEnd) - heap.start)) else { continue }
                        checksum &+= plainRead(view)
                    }
                }
            }
            let count = result.table.allocations.count
            let walkSeconds = seconds(walkTime)
            print("heap walk: \(count) allocations, \(heapBytes >> 20) MiB of arena heaps")
            print(String(format: "  walk %.3f s (%.1f M allocations/s, %.2f GB/s, %.3f s per 200 MB)",
                         walkSeconds, Double(count) / walkSeconds / 1e6, Double(heapBytes) / walkSeconds / 1e9,
                         walkSeconds / (Double(heapBytes) / 200e6)))
            print(String(format: "  report %.3f s; plain read of the heaps %.3f s (%.2f GB/s, checksum %llx)",
                         seconds(reportTime), seconds(readTime), Double(heapBytes) / seconds(readTime) / 1e9, checksum))
        } catch {
            print("heap walk: \(path): \(error)")
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The baseline: one pass summing every word, the least any walk over the bytes could cost.
    static func plainRead(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var sum = SIMD8<UInt64>(repeating: 0)
        var offset = 0
        while offset + 64 <= bytes.count {
            sum &+= bytes.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt64>.self)
            offset += 64
        }
        return sum.wrappedSum()
    }
}
