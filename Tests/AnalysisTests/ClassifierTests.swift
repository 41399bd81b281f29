import Allocators
import Analysis
import ELFCore
import Regions
import Testing
import TestFixtures

/// Grouping on a synthetic heap whose population is known exactly.
@Suite struct ClassifierTests {
    static let heap: UInt64 = 0x5555_0000_0000
    static let module: UInt64 = 0x5555_1000_0000
    static let vtable = module + 0x10

    /// 30 objects with a vtable (64-byte blocks), 40 structs with a 4-byte magic at +0 and an
    /// index beside it (48-byte blocks), 25 structs with an 8-byte magic at +8 (48-byte blocks),
    /// 12 plain 32-byte blocks, and 3 allocations of another type: below the count threshold, but
    /// 3.2 % of the used bytes.
    static func population() throws -> (CoreFile, AllocationTable) {
        var words: [UInt64] = []
        var allocations: [Allocation] = []
        func allocate(_ block: UInt64, _ contents: [UInt64]) {
            let address = heap + UInt64(words.count * 8) + 16
            words += [0, block | 1] + contents + [UInt64](repeating: 0, count: Int(block / 8) - 2 - contents.count)
            allocations.append(Allocation(address: address, usableSize: block - 8, blockSize: block, isUsed: true, arena: 0))
        }
        for index in 0..<30 { allocate(64, [vtable, UInt64(index)]) }
        for index in 0..<40 { allocate(48, [0xa11c_0de5 | UInt64(index) << 32, UInt64(index)]) }
        for index in 0..<25 { allocate(48, [UInt64(index), 0x5eed_0f1e_a4ed_0001]) }
        for index in 0..<12 { allocate(32, [UInt64(index)]) }
        for _ in 0..<3 { allocate(64, [vtable + 0x40]) }
        var synthetic = SyntheticCore()
        synthetic.segments = [
            .init(address: heap, contents: words64(words)),
            .init(address: module, contents: [UInt8](repeating: 0, count: 4096), flags: 4),
        ]
        let core = try CoreFile(path: try synthetic.write())
        let table = AllocationTable(allocator: "test", method: "synthetic", arenas: ["main"], allocations: allocations,
                                    warnings: [], managedRanges: [heap..<(heap + UInt64(words.count * 8))])
        return (core, table)
    }

    static func typeOf(_ word: UInt64) -> TypeIdentity? {
        switch word {
        case vtable: return TypeIdentity(name: "Session", module: "/srv/app")
        case vtable + 0x40: return TypeIdentity(name: "Rare", module: "/srv/app")
        default: return nil
        }
    }

    @Test func groupsByTypeMagicAndSize() throws {
        let (core, table) = try Self.population()
        let report = Classifier(table: table, memory: core.addressSpace, reachability: nil,
                                    vtableRanges: [Self.module..<(Self.module + 4096)], typeOf: Self.typeOf)
            .classify(corePath: "app.core")
        let rows = report.suspects.map { "\($0.kind.rawValue) \($0.name) \($0.count) \($0.bytes)" }
        #expect(rows == [
            "magic 0xa11c0de5 at +0 of 48-byte blocks 40 1920",
            "type Session 30 1920",
            "magic 0x5eed0f1ea4ed0001 at +8 of 48-byte blocks 25 1200",
            "size 32-byte blocks 12 384",
            "type Rare 3 192",
        ])
        #expect(report.omitted.smallGroups == 0)
        #expect(report.usedAllocations == 110)
        #expect(!report.reachabilityKnown)
        #expect(report.suspects.allSatisfy { $0.leaked == nil && $0.examples.count == 3 })
        let session = try #require(report.suspects.first { $0.name == "Session" })
        #expect(session.objectSize == 56)
        #expect(session.command == "heapscan find app.core \(hex(Self.vtable)) --width 8 --context 64 --limit 20")
        let magic = try #require(report.suspects.first)
        #expect(magic.width == 4 && magic.offset == 0)

        // Above the share asked for, the small group is left out and accounted for.
        var options = Classifier.Options()
        options.minimumShare = 0.05
        let stricter = Classifier(table: table, memory: core.addressSpace, reachability: nil,
                                  vtableRanges: [Self.module..<(Self.module + 4096)], typeOf: Self.typeOf)
            .classify(corePath: "app.core", options: options)
        #expect(!stricter.suspects.contains { $0.name == "Rare" })
        #expect(stricter.omitted.smallGroups == 1 && stricter.omitted.smallAllocations == 3 && stricter.omitted.smallBytes == 192)
    }

    @Test func diffReportsOnlyGrowth() throws {
        let (core, table) = try Self.population()
        let classifier = Classifier(table: table, memory: core.addressSpace, reachability: nil,
                                    vtableRanges: [Self.module..<(Self.module + 4096)], typeOf: Self.typeOf)
        var options = Classifier.Options()
        options.minimumCount = 1
        let full = classifier.classify(corePath: "new.core", options: options)
        #expect(GrowthDiff(old: full, new: full).rows.isEmpty)
        var shrunk = full
        shrunk.suspects = full.suspects.map { suspect in
            var copy = suspect
            if copy.name == "Session" { copy.count -= 10; copy.bytes -= 640 }
            return copy
        }
        let diff = GrowthDiff(old: shrunk, new: full)
        #expect(diff.rows.count == 1)
        #expect(diff.rows.first?.name == "Session")
        #expect(diff.rows.first?.countDelta == 10)
        #expect(diff.rows.first?.byteDelta == 640)
    }
}
