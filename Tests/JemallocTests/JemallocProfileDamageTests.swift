import Allocators
import ELFCore
import Foundation
import Testing
import TestFixtures

/// Bytes overwritten in the profiling records of a real core (each sampled extent's context,
/// its stack context and backtrace): every candidate is either read or dropped and counted,
/// dropped ones are reported in one bounded warning, and nothing traps.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb (make test installs them)"))
struct JemallocProfileDamageTests {
    /// A private copy of the core whose bytes can be patched at virtual addresses and restored.
    final class PatchableCore {
        let path: String
        let segments: [(start: UInt64, end: UInt64, fileOffset: UInt64)]
        let handle: FileHandle

        init(copying original: String) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-prof-damage-\(UUID().uuidString).core").path
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: original, toPath: path)
            segments = try CoreFile(path: path).segments.map { ($0.start, $0.start + UInt64($0.bytes.count), $0.fileOffset) }
            handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        }

        deinit {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path)
        }

        func fileOffset(_ address: UInt64) -> UInt64? {
            segments.first { address >= $0.start && address < $0.end }.map { $0.fileOffset + address - $0.start }
        }

        /// Writes `bytes` at `address`, returning what was there.
        func patch(_ address: UInt64, _ bytes: [UInt8]) throws -> [UInt8] {
            guard let offset = fileOffset(address) else { return [] }
            try handle.seek(toOffset: offset)
            let old = [UInt8](try handle.read(upToCount: bytes.count) ?? Data())
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data(bytes))
            return old
        }

        func profile() throws -> JemallocProfile {
            let core = try CoreFile(path: path)
            let heap = try #require(try JemallocHeap.read(core: core))
            return JemallocProfile.read(heap: heap, core: core)
        }
    }

    struct Records {
        var tctxs: [UInt64] = []
        var gctxs: [UInt64] = []
    }

    static func records(of path: String) throws -> (JemallocProfile, Records) {
        let core = try CoreFile(path: path)
        let heap = try #require(try JemallocHeap.read(core: core))
        let profile = JemallocProfile.read(heap: heap, core: core)
        var records = Records()
        for extent in heap.extents where profile.allocations.contains(where: { $0.address == extent.address }) {
            if let tctx = core.addressSpace.readU64(extent.edata + 80), !records.tctxs.contains(tctx) { records.tctxs.append(tctx) }
        }
        records.gctxs = Array(Set(profile.allocations.map(\.stackContext))).sorted()
        return (profile, records)
    }

    static func expectAccounted(_ damaged: JemallocProfile, intact: JemallocProfile, _ what: String) {
        #expect(damaged.allocations.count + damaged.droppedCount == intact.allocations.count, "\(what)")
        #expect(damaged.warnings.count == (damaged.droppedCount > 0 ? 1 : 0), "\(what): \(damaged.warnings)")
        for allocation in damaged.allocations {
            #expect((1...128).contains(allocation.frames.count), "\(what)")
        }
    }

    @Test func directedDamageDropsExactlyTheStacksItTouches() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let (intact, records) = try Self.records(of: sample.path)
        let core = try PatchableCore(copying: sample.path)
        // The leak site's stack: 50 allocations, one context.
        let perStack = Dictionary(grouping: intact.allocations, by: \.stackContext)
        let (gctx, members) = try #require(perStack.max { $0.value.count < $1.value.count })
        let cases: [(String, UInt64, [UInt8], String)] = [
            ("backtrace length 1000", gctx + 112, [0xe8, 0x03, 0, 0], "backtrace length outside 1...128"),
            ("vector moved", gctx + 104, [0x00], "backtrace vector not inside its stack context"),
            ("a frame in the heap", gctx + 120 + 8 * 4, Array(repeating: 0x41, count: 6), "return address outside executable code"),
        ]
        for (what, address, bytes, reason) in cases {
            let old = try core.patch(address, bytes)
            let damaged = try core.profile()
            _ = try core.patch(address, old)
            Self.expectAccounted(damaged, intact: intact, what)
            #expect(damaged.dropped == [reason: members.count], "\(what): \(damaged.dropped)")
            #expect(damaged.warnings.first?.contains(reason) == true, "\(what): \(damaged.warnings)")
        }
        let tctx = try #require(records.tctxs.first)
        let old = try core.patch(tctx + 96, [0x03])
        let damaged = try core.profile()
        _ = try core.patch(tctx + 96, old)
        Self.expectAccounted(damaged, intact: intact, "misaligned stack context")
        #expect(damaged.dropped.keys.contains("misaligned stack-context pointer"), "\(damaged.dropped)")
    }

    @Test func randomBytesOverTheRecordsAreDroppedOrReadNeverTrapped() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let (intact, records) = try Self.records(of: sample.path)
        let core = try PatchableCore(copying: sample.path)
        var random = SplitMix(seed: 0x5052_4f46)
        let targets = records.tctxs.map { ($0, 200) } + records.gctxs.map { ($0, 120 + 8 * 12) }
        for round in 0..<12 {
            let (record, size) = targets[Int(random.next() % UInt64(targets.count))]
            let address = record + random.next() % UInt64(size)
            let bytes = (0..<Int(1 + random.next() % 8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let old = try core.patch(address, bytes)
            let damaged = try core.profile()
            _ = try core.patch(address, old)
            Self.expectAccounted(damaged, intact: intact, "round \(round): \(bytes.count) bytes at \(hex(address))")
        }
        #expect(try core.profile().allocations == intact.allocations)
    }
}
