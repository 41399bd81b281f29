import Foundation
import ELFCore
import Testing
import TestFixtures

/// `heapscan words` against a plain Dictionary count of the same bytes, read here through
/// ELFCore with the heap ranges `heapscan info` reports.
@Suite struct WordsCommandTests {
    struct Entry: Equatable, CustomStringConvertible {
        let value: UInt64
        let count: UInt64
        var description: String { "\(hex(value))×\(count)" }
    }

    /// Counts of every aligned word in the core's heap regions.
    func referenceCounts(core path: String, width: Int) throws -> (counts: [UInt64: UInt64], words: UInt64) {
        let info = try HeapscanProcess.json(["info", path])
        let file = try CoreFile(path: path)
        var counts: [UInt64: UInt64] = [:]
        var words: UInt64 = 0
        for region in info["regions"] as? [[String: Any]] ?? [] where region["label"] as? String == "heap" {
            guard let start = truthAddress(region["start"]), let present = (region["inCore"] as? NSNumber)?.intValue,
                  present > 0, let bytes = file.addressSpace.read(start, count: present) else { continue }
            var offset = 0
            while offset + width <= bytes.count {
                var value: UInt64 = 0
                for index in (0..<width).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
                counts[value, default: 0] += 1
                words += 1
                offset += width
            }
        }
        return (counts, words)
    }

    /// Zero and small integers (the default --skip) removed, most frequent first, ties by value.
    func referenceTop(_ counts: [UInt64: UInt64], width: Int, top: Int) -> [Entry] {
        let limit: UInt64 = width == 8 ? .max : 0xffff_ffff
        return counts.filter { $0.key >= 65536 && $0.key <= limit - 65536 }
            .map { Entry(value: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
            .prefix(top).map { $0 }
    }

    func words(_ arguments: [String]) throws -> (entries: [Entry], report: [String: Any]) {
        let report = try HeapscanProcess.json(["words"] + arguments)
        let entries = (report["top"] as? [[String: Any]] ?? []).compactMap { row -> Entry? in
            guard let value = truthAddress(row["value"]), let count = (row["count"] as? NSNumber)?.uint64Value else { return nil }
            return Entry(value: value, count: count)
        }
        return (entries, report)
    }

    func expectMatchesReference(core path: String, width: Int) throws {
        let reference = try referenceCounts(core: path, width: width)
        let expected = referenceTop(reference.counts, width: width, top: 50)
        let fast = try words([path, "--width", String(width), "--top", "50"])
        // Every listed count is exact, proven or not.
        for entry in fast.entries { #expect(reference.counts[entry.value] == entry.count, "\(entry)") }
        #expect((fast.report["scannedWords"] as? NSNumber)?.uint64Value == reference.words)
        if fast.report["provenExact"] as? Bool == true { #expect(fast.entries == expected) }
        let exact = try words([path, "--width", String(width), "--top", "50", "--exact"])
        #expect(exact.entries == expected)
        #expect(exact.report["provenExact"] as? Bool == true)
    }

    @Test(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb"), arguments: [4, 8])
    func top50EqualsPlainCountOnSampleCore(width: Int) throws {
        try expectMatchesReference(core: try SampleCores.core("magic").path, width: width)
    }

    @Test(arguments: [4, 8])
    func top50EqualsPlainCountOnSyntheticCore(width: Int) throws {
        var random: UInt64 = 0x9e37_79b9
        func next() -> UInt64 {
            random ^= random << 13
            random ^= random >> 7
            random ^= random << 17
            return random
        }
        let heap: UInt64 = 0x5555_0000_0000
        let values: [UInt64] = (0..<40000).map { index in
            switch next() % 20 {
            case 0...9: return 0
            case 10...13: return next() % 500
            case 14: return heap + (next() % 40000) * 8
            case 15: return 0x7f00_0000_1000 + (next() % 25) * 0x40
            case 16: return 0xfeed_face_0000_0000 | UInt64(index % 97)
            default: return next()
            }
        }
        var synthetic = SyntheticCore()
        synthetic.segments = [.init(address: heap, contents: words64(values))]
        try expectMatchesReference(core: try synthetic.write(name: "words"), width: width)
    }

    @Test(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb"))
    func plantedMagicsRankFirstAmongNonPointers() throws {
        let core = try SampleCores.core("magic")
        for magic in core.truth["magics"] as? [[String: Any]] ?? [] {
            let width = try #require((magic["width"] as? NSNumber)?.intValue)
            let value = try #require(truthAddress(magic["value"]))
            let count = try #require((magic["count"] as? NSNumber)?.uint64Value)
            let result = try words([core.path, "--width", String(width), "--skip", "zero,small,pointers", "--top", "5"])
            #expect(result.entries.first == Entry(value: value, count: count))
            #expect((result.report["top"] as? [[String: Any]])?.first?["kind"] as? String == "magic")
        }
    }

    @Test(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb"))
    func vtablePointersRankWithObjectCounts() throws {
        let core = try SampleCores.core("classes")
        let result = try words([core.path, "--top", "50"])
        let listed = Dictionary(uniqueKeysWithValues: result.entries.map { ($0.value, $0.count) })
        var checked = 0
        for entry in core.truth["classes"] as? [[String: Any]] ?? [] {
            // Classes whose vtable is only ever the first word of their own objects.
            guard (entry["secondary_vptrs"] as? [Any])?.isEmpty == true,
                  let vtable = truthAddress(entry["vtable"]), let count = (entry["count"] as? NSNumber)?.uint64Value
            else { continue }
            #expect(listed[vtable] == count, "\(entry["name"] ?? "?")")
            checked += 1
        }
        #expect(checked >= 5)
        let row = (result.report["top"] as? [[String: Any]])?.first { $0["kind"] as? String == "pointer" }
        #expect(row?["region"] != nil)
    }

    @Test func badArgumentsGiveOneLineErrors() throws {
        var synthetic = SyntheticCore()
        synthetic.segments = [.init(address: 0x5555_0000_0000, contents: words64([1, 2, 3, 4]))]
        let path = try synthetic.write(name: "args")
        let cases: [([String], String)] = [
            (["find", path, "0x1ff", "--width", "1"], "does not fit in 1 byte"),
            (["find", path, "1", "--range", "0x20-0x10"], "bad range"),
            (["find", path, "1", "--range", "0x10-0x20"], "selects no memory"),
            (["find", path, "1", "--regions", "stack"], "selects no memory"),
            (["find", path, "zz"], "is not a number"),
            (["find", path, "1", "--limt", "3"], "'--limt' is not a number"),
            (["find", path], "nothing to find"),
            (["words", path, "--skip", "floats"], "unknown skip class"),
            (["words", path, "--regions", "nowhere"], "unknown region"),
        ]
        for (arguments, fragment) in cases {
            let result = try HeapscanProcess.run(arguments)
            #expect(!result.crashed)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
        }
    }
}
