import Allocators
import ELFCore
import Foundation

/// Times the jemalloc extent-map vote (one pass over writable memory) and the whole walk on a
/// core, against a plain read of the same memory in the same run.
enum JemallocVoteBench {
    static func run(corePath: String, repetitions: Int = 3) throws {
        let core = try CoreFile(path: corePath)
        guard let detection = JemallocDetection.detect(in: core) else {
            print("jemalloc-vote: \(corePath) is not a jemalloc process; skipped")
            return
        }
        let writable = core.addressSpace.segments.filter { $0.permissions.contains(.write) }
        let bytes = writable.reduce(UInt64(0)) { $0 + $1.presentSize }
        let coreBytes = UInt64(core.file.bytes.count)
        // Fault the pages in once so every timing below reads from the page cache.
        var sink = plainRead(writable)

        var readBest = Double.infinity
        var voteBest = Double.infinity
        var walkBest = Double.infinity
        var profileBest = Double.infinity
        let heap = try JemallocHeap.read(core: core, detection: detection)
        var profile = JemallocProfile.read(heap: heap, core: core)
        for _ in 0..<repetitions {
            readBest = min(readBest, time { sink &+= plainRead(writable) })
            voteBest = min(voteBest, try time { sink &+= try JemallocHeap.extentMapRoot(core: core, detection: detection) })
            walkBest = min(walkBest, try time { sink &+= UInt64(try JemallocHeap.read(core: core, detection: detection).extents.count) })
            profileBest = min(profileBest, time {
                profile = JemallocProfile.read(heap: heap, core: core)
                sink &+= UInt64(profile.allocations.count)
            })
        }
        let gb = Double(bytes) / 1e9
        print("jemalloc-vote: \(corePath): \(String(format: "%.2f", Double(coreBytes) / 1e9)) GB core, \(String(format: "%.2f", gb)) GB writable (best of \(repetitions))")
        print(String(format: "  plain read     %7.3f s  %6.2f GB/s", readBest, gb / readBest))
        print(String(format: "  vote           %7.3f s  %6.2f GB/s  %.2fx plain read", voteBest, gb / voteBest, voteBest / readBest))
        print(String(format: "  full walk      %7.3f s  %6.3f s per GB of core", walkBest, walkBest / (Double(coreBytes) / 1e9)))
        if profile.isEnabled {
            print(String(format: "  prof stacks    %7.3f s  %d sampled allocations, %d stacks", profileBest, profile.allocations.count,
                         Set(profile.allocations.map(\.stackContext)).count))
        }
        if sink == 42 { print("") }
    }

    /// Sums every 8-byte word: the memory-bandwidth yardstick.
    static func plainRead(_ segments: [Segment]) -> UInt64 {
        var total = SIMD8<UInt64>(repeating: 0)
        for segment in segments {
            let bytes = segment.bytes
            guard let base = bytes.baseAddress else { continue }
            var offset = 0
            while offset + 256 <= bytes.count {
                total &+= base.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt64>.self)
                    &+ base.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<UInt64>.self)
                    &+ base.loadUnaligned(fromByteOffset: offset + 128, as: SIMD8<UInt64>.self)
                    &+ base.loadUnaligned(fromByteOffset: offset + 192, as: SIMD8<UInt64>.self)
                offset += 256
            }
        }
        return total.wrappedSum()
    }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
