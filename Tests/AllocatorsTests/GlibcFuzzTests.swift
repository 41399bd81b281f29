import Allocators
import Analysis
import ELFCore
import Foundation
import Regions
import Testing
import TestFixtures

/// The mutation fuzzer over the rich synthetic glibc heap (with and without a thread arena):
/// the ELF/notes parser, the glibc walker with the heap report, and the leak pipeline. Each
/// runs a few seconds under `make test`; `make fuzz` runs them long.
struct GlibcFuzzTests {
    typealias Rich = RichSyntheticGlibcHeap
    typealias Heap = SyntheticGlibcHeap

    /// Seed cores and the fields the mutators edit, found through the seed's own segments.
    static func seeds() throws -> [MutationFuzzer.Seed] {
        var threaded = Rich()
        threaded.heap.withThreadArena = true
        return try [Rich(), threaded].map { rich in
            let path = try rich.heap.core()
            defer { try? FileManager.default.removeItem(atPath: path) }
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let core = try CoreFile(path: path)
            return MutationFuzzer.Seed(bytes: bytes, sites: heapSites(rich, core: core) + elfSites(bytes))
        }
    }

    static func heapSites(_ rich: Rich, core: CoreFile) -> [MutationFuzzer.Site] {
        func offset(_ address: UInt64) -> Int? {
            guard let segment = core.addressSpace.segment(containing: address), address + 8 <= segment.presentEnd else { return nil }
            return Int(segment.fileOffset + (address - segment.start))
        }
        let chunks = [Heap.heap] + rich.chunks.map(\.address) + [rich.top, Heap.threadChunk, Heap.threadTop]
        var sites: [MutationFuzzer.Site] = []
        for chunk in chunks {
            let reaching: [UInt64] = chunks.filter { $0 > chunk }.flatMap { [($0 - chunk) | 1, $0 - chunk] }
            let sizes: [UInt64] = reaching + [0x10, 0x21, (1 << 63) | 1, 0x7fff_ffff_fff0, Heap.heapSize | 1]
            if let at = offset(chunk + 8) { sites.append(.init(offset: at, candidates: sizes)) }
            if let at = offset(chunk) { sites.append(.init(offset: at, candidates: [0, 0x20, 0x100, chunk - Heap.heap])) }
            for link in [chunk + 16, chunk + 24] {
                guard let at = offset(link) else { continue }
                let targets: [UInt64] = chunks.flatMap { [$0, $0 + 16] } + [Heap.arena + 96, link - 16, 0]
                sites.append(.init(offset: at, candidates: targets + targets.map { Rich.mangled($0, storedAt: link) }))
            }
        }
        for word in 0..<(16 + 64) {
            guard let at = offset(Rich.tcache + UInt64(word) * 8) else { continue }
            sites.append(.init(offset: at, candidates: word < 16 ? [0xffff, 0xffff_ffff_ffff_ffff, 1, 7 << 16]
                                                                 : chunks.map { $0 + 16 } + [0]))
        }
        for arena in [Heap.arena, Heap.threadArena] {
            // fastbins, top, last_remainder, the first bins, next, system_mem.
            for word in Array(2..<18) + [270, 273, 274] {
                guard let at = offset(arena + UInt64(word) * 8) else { continue }
                sites.append(.init(offset: at, candidates: chunks + [arena, Heap.arena, Heap.threadArena, arena + 96, 0x1234_5671]))
            }
        }
        for word in 0..<4 {
            if let at = offset(Heap.threadHeap + UInt64(word) * 8) {
                sites.append(.init(offset: at, candidates: [Heap.threadHeap, Heap.threadArena, Heap.arena, 0, 1 << 40]))
            }
        }
        return sites
    }

    /// ELF header fields, every program header's offset/address/sizes and every note's header.
    static func elfSites(_ bytes: [UInt8]) -> [MutationFuzzer.Site] {
        func u64(_ at: Int) -> UInt64 { bytes[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        func u32(_ at: Int) -> UInt32 { bytes[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        let size = UInt64(bytes.count)
        var sites: [MutationFuzzer.Site] = [
            .init(offset: 32, candidates: [0, 64, size, size - 8, 1 << 62]),
            .init(offset: 54, width: 2, candidates: [0, 1, 55, 56, 57]),
            .init(offset: 56, width: 2, candidates: [0, 1, 0xffff, 200]),
        ]
        let count = Int(bytes[56]) | Int(bytes[57]) << 8
        let lengths: [UInt64] = [0, 1, size, size + 1, 1 << 40, UInt64.max, UInt64.max - 0xfff]
        for index in 0..<count {
            let header = 64 + index * 56
            sites.append(.init(offset: header, width: 4, candidates: [1, 4, 0x6474e551]))
            for field in [8, 16, 32, 40] { sites.append(.init(offset: header + field, candidates: lengths)) }
        }
        // Notes: the first program header is PT_NOTE.
        var note = Int(u64(64 + 8))
        let end = note + Int(u64(64 + 32))
        while note + 12 <= end {
            let name = Int(u32(note)), descriptor = Int(u32(note + 4))
            for field in [0, 4] {
                sites.append(.init(offset: note + field, width: 4, candidates: [0, 3, 0xffff_ffff, 0x7fff_fffc, UInt64(descriptor + 4)]))
            }
            sites.append(.init(offset: note + 8, width: 4, candidates: [1, 3, 6, 0x4649_4c45, 0x53494749]))
            note += 12 + (name + 3) / 4 * 4 + (descriptor + 3) / 4 * 4
        }
        return sites
    }

    /// The warning kinds and table shape of a walk: what the corpus keeps new examples of.
    static func signature(_ warnings: [String], _ parts: Int...) -> String {
        Set(warnings.map(WarningDigest.kind)).sorted().joined(separator: "|") + parts.map(String.init).joined(separator: ",")
    }

    static func expectBounded(_ warnings: [String], _ path: String) {
        if warnings.count >= 100 {
            let kept = path + ".too-many-warnings.core"
            try? FileManager.default.copyItem(atPath: path, toPath: kept)
            Issue.record("\(warnings.count) warnings for the input kept at \(kept)")
        }
    }

    static func expectOrdered(_ table: AllocationTable, _ path: String) {
        let ordered = zip(table.allocations, table.allocations.dropFirst()).allSatisfy { $0.address < $1.address }
        if !ordered {
            let kept = path + ".unordered.core"
            try? FileManager.default.copyItem(atPath: path, toPath: kept)
            Issue.record("allocation table out of order for the input kept at \(kept)")
        }
    }

    @Test func elfAndNotesParserSurvivesMutations() throws {
        var fuzzer = MutationFuzzer(name: "elf-notes", seeds: try Self.seeds(), randomSeed: 11)
        let stats = try fuzzer.run(.fromEnvironment(defaultSeconds: 8)) { path in
            let core = try CoreFile(path: path)
            let regions = RegionMap(core: core)
            let summary = CoreSummary(core: core, regions: regions)
            _ = core.threads.map { core.addressSpace.readU64($0.stackPointer) }
            Self.expectBounded(core.warnings, path)
            return Self.signature(core.warnings + summary.warnings, core.segments.count, core.notes.count, core.threads.count)
        }
        print(stats)
        #expect(stats.executions > 0)
    }

    @Test func glibcWalkerSurvivesMutations() throws {
        var fuzzer = MutationFuzzer(name: "glibc", seeds: try Self.seeds(), randomSeed: 22)
        let stats = try fuzzer.run(.fromEnvironment(defaultSeconds: 12)) { path in
            let core = try CoreFile(path: path)
            let regions = RegionMap(core: core)
            let result = GlibcHeap.walk(core: core, regions: regions, knownMainArena: Heap.arena)
            let report = HeapReport(result: result, top: 5, includeFree: true, address: Heap.chunks[1] + 16, coreWarnings: core.warnings)
            _ = try JSONEncoder().encode(report)
            let table = ProcessAllocator.allocationTable(core: core, regions: regions)
            Self.expectBounded(result.warnings, path)
            Self.expectOrdered(result.table, path)
            return Self.signature(result.warnings, result.arenas.count, result.tcaches.count, table.allocations.count)
        }
        print(stats)
        #expect(stats.executions > 0)
    }

    @Test func leakPipelineSurvivesMutations() throws {
        var fuzzer = MutationFuzzer(name: "leaks", seeds: try Self.seeds(), randomSeed: 33)
        let stats = try fuzzer.run(.fromEnvironment(defaultSeconds: 10)) { path in
            let core = try CoreFile(path: path)
            let analysis = LeakAnalysis(core: core, modules: nil, recordChains: true)
            let report = analysis.classify()
            if let first = analysis.table?.allocations.first { _ = analysis.explain(first.address) }
            _ = analysis.explain(Heap.chunks[2] + 24)
            return Self.signature(analysis.table?.warnings ?? [], report?.suspects.count ?? -1, report?.usedAllocations ?? -1)
        }
        print(stats)
        #expect(stats.executions > 0)
    }
}
