import Allocators
import Analysis
import ELFCore
import Foundation
import Regions
import Testing
import TestFixtures

/// The mutation fuzzer over the hand-built jemalloc heap: extent-map root slots and leaf
/// entries, edata fields and thread-cache bins are edited; the walker, its report, the
/// allocator choice and the leak pipeline must neither trap nor hang nor flood.
struct JemallocFuzzTests {
    typealias Built = JemallocSyntheticHeapTests

    /// The hand-built heap with its empty extent-map pages sharing one block of zeros: about
    /// 100 KiB instead of 4 MiB per input, so the fuzzer spends its time in the walker rather
    /// than writing and mapping zeros. The pages the sites below edit keep their own bytes.
    static func seed() throws -> MutationFuzzer.Seed {
        let rootSlot = Built.root + 8 * ((Built.heap >> 30) & 0x3ffff)
        var synthetic = Built().core()
        synthetic.shareZeroPages(keeping: [Built.root, rootSlot, Built.leaf, Built.edatas, Built.tls + 0xffff])
        let path = try synthetic.write(name: "jemalloc-synthetic-compact")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let core = try CoreFile(path: path)
        func offset(_ address: UInt64) -> Int? {
            guard let segment = core.addressSpace.segment(containing: address), address + 8 <= segment.presentEnd else { return nil }
            return Int(segment.fileOffset + (address - segment.start))
        }
        var sites: [MutationFuzzer.Site] = []
        for slot in [rootSlot, rootSlot + 8, rootSlot - 8, Built.root] {
            if let at = offset(slot) { sites.append(.init(offset: at, candidates: [Built.leaf, 0, Built.leaf + 64, Built.edatas, Built.root])) }
        }
        // Every non-empty leaf entry, and the entries of the pages around them.
        var entryValues: [UInt64] = []
        var entryAddresses: [UInt64] = []
        for page in stride(from: Built.heap, to: Built.heap + 0x40000, by: 0x1000) {
            let address = Built.leaf + 8 * ((page >> 12) & 0x3ffff)
            if let value = core.addressSpace.readU64(address), value != 0 { entryValues.append(value) }
            entryAddresses.append(address)
        }
        let edataCandidates: [UInt64] = (0..<8).map { Built.edatas + UInt64($0) * 128 }
        for address in entryAddresses {
            guard let at = offset(address) else { continue }
            let variants = entryValues.flatMap { [$0, $0 ^ (1 << 48), $0 & ~UInt64(0xffff) << 48 | 232 << 48, $0 ^ 1] }
            sites.append(.init(offset: at, candidates: variants + edataCandidates.map { 2 << 48 | $0 | 1 }))
        }
        for header in 0..<6 {
            for word in 0..<11 {
                guard let at = offset(Built.edatas + UInt64(header * 128 + word * 8)) else { continue }
                sites.append(.init(offset: at, candidates: [0, Built.heap, Built.heap - 0x1000, 4096, 8192, 16 << 30, 1 << 47,
                                                            UInt64.max, 1 << 13 | 2 << 20 | 100 << 28, 0xffff_ffff_ffff_ffff >> 1]))
            }
        }
        let run = Built.tls + 0x10000 - 0x6e8
        for word in 0..<30 {
            guard let at = offset(run + UInt64(word) * 8) else { continue }
            sites.append(.init(offset: at, candidates: [Built.stacks + 8, Built.stacks + 0x1000, 0, UInt64(0xffff) << 32 | 8]))
        }
        return MutationFuzzer.Seed(bytes: bytes, sites: sites)
    }

    @Test func jemallocWalkerSurvivesMutations() throws {
        var fuzzer = MutationFuzzer(name: "jemalloc", seeds: [try Self.seed()], randomSeed: 44)
        var executions = 0
        let stats = try fuzzer.run(.fromEnvironment(defaultSeconds: 15)) { path in
            let core = try CoreFile(path: path)
            let regions = RegionMap(core: core)
            var signature = ""
            do {
                if let heap = try JemallocHeap.read(core: core) {
                    let report = heap.report(memory: core.addressSpace, address: Built.heap + 100)
                    _ = try JSONEncoder().encode(report)
                    let table = heap.allocationTable()
                    let disjoint = zip(table.allocations, table.allocations.dropFirst()).allSatisfy { $0.end <= $1.address }
                    if !disjoint || heap.warnings.count >= 100 {
                        let kept = path + ".jemalloc-invariant.core"
                        try? FileManager.default.copyItem(atPath: path, toPath: kept)
                        Issue.record("overlapping allocations or \(heap.warnings.count) warnings for the input kept at \(kept)")
                    }
                    signature = Set(heap.warnings.map(WarningDigest.kind)).sorted().joined(separator: "|")
                        + "\(heap.extents.count),\(table.allocations.count)"
                }
            } catch let error as JemallocError {
                signature = "refused: " + WarningDigest.kind(of: "\(error)")
            }
            // The allocator choice and the leak pipeline read the heap again: every 8th input.
            executions += 1
            if executions % 8 == 0 {
                _ = try? ProcessAllocator.heapChoice(core: core, regions: regions)
                _ = LeakAnalysis(core: core, modules: nil).classify()
            }
            return signature
        }
        print(stats)
        #expect(stats.executions > 0)
    }
}

/// The compact seed is the same heap as the hand-built one: sharing zero pages changes the
/// file, not what the walker reads.
struct JemallocCompactSeedTests {
    @Test func compactCoreReadsLikeTheFullOne() throws {
        let fullPath = try JemallocSyntheticHeapTests().build()
        defer { try? FileManager.default.removeItem(atPath: fullPath) }
        let seed = try JemallocFuzzTests.seed()
        let compactPath = try SyntheticCore.writeTemporary(seed.bytes, name: "jemalloc-compact-check")
        defer { try? FileManager.default.removeItem(atPath: compactPath) }
        let full = try #require(try JemallocHeap.read(core: CoreFile(path: fullPath)))
        let compact = try #require(try JemallocHeap.read(core: CoreFile(path: compactPath)))
        #expect(seed.bytes.count < 256 << 10, "compact seed is \(seed.bytes.count) bytes")
        #expect(compact.root == full.root)
        #expect(compact.extents.map(\.address) == full.extents.map(\.address))
        #expect(compact.threadCaches.map(\.bins.count) == full.threadCaches.map(\.bins.count))
        #expect(compact.allocationTable().allocations.map(\.address) == full.allocationTable().allocations.map(\.address))
        #expect(compact.allocationTable().allocations.map(\.isUsed) == full.allocationTable().allocations.map(\.isUsed))
        #expect(compact.warnings == full.warnings)
    }
}
