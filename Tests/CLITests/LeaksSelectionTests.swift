import Foundation
import Testing
import TestFixtures

/// Which groups `leaks` lists by default: every group big in count or in bytes, and one line (one
/// JSON object) for the rest, so that nothing big is hidden and nothing is lost silently.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct LeaksSelectionTests {
    func number(_ object: [String: Any]?, _ key: String) -> Int? { (object?[key] as? NSNumber)?.intValue }

    /// mallocsizes with 4 mmapped 300 KiB chunks: fewer than --min-count 8, and most of the heap.
    @Test func groupsOfOnePercentOfTheBytesAreShownWhateverTheirCount() throws {
        let sample = try SampleCores.core("mallocsizes", ["200", "4"])
        let all = try HeapscanProcess.json(["leaks", sample.path, "--min-count", "1", "--top", "0"])
        let everyGroup = try #require(all["suspects"] as? [[String: Any]])
        let big = everyGroup.filter { number($0, "count")! < 8 && ($0["share"] as! NSNumber).doubleValue >= 0.01 }
        #expect(!big.isEmpty, "the sample must have a group of few allocations and many bytes")

        let shown = try HeapscanProcess.json(["leaks", sample.path, "--top", "0"])
        let rows = try #require(shown["suspects"] as? [[String: Any]])
        let expected = everyGroup.filter { number($0, "count")! >= 8 || ($0["share"] as! NSNumber).doubleValue >= 0.01 }
        #expect(Set(rows.compactMap { $0["name"] as? String }) == Set(expected.compactMap { $0["name"] as? String }))

        // What is left out adds up with what is shown to the whole heap.
        let omitted = try #require(shown["omitted"] as? [String: Any])
        #expect(number(omitted, "smallGroups") == everyGroup.count - expected.count)
        let shownAllocations = rows.reduce(0) { $0 + number($1, "count")! }
        #expect(shownAllocations + number(omitted, "smallAllocations")! == number(shown, "usedAllocations"))

        let text = try HeapscanProcess.run(["leaks", sample.path, "--top", "3"]).stdout
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("left out: ") }, "\(text)")
        let small = everyGroup.count - expected.count
        #expect(line.contains("\(groupedDigits(small)) group\(small == 1 ? "" : "s") under 8 allocations and 1.0% of the used bytes"))
        #expect(line.contains("\(groupedDigits(expected.count - 3)) groups past --top 3"))
    }

    /// The JSON totals: anchored and leaked add up to the used heap, unreferenced is part of leaked.
    @Test func totalsOfAnchoredLeakedAndUnreferenced() throws {
        let sample = try SampleCores.core("leaker")
        let report = try HeapscanProcess.json(["leaks", sample.path])
        let used = try #require(number(report, "usedAllocations"))
        let leaked = try #require(number(report, "leakedAllocations"))
        #expect(number(report, "anchoredAllocations") == used - leaked)
        let unreferenced = try #require(number(report, "unreferencedAllocations"))
        // The leaker's leaked objects hold no pointers, and nothing points to them.
        let planted = (sample.truth["types"] as? [[String: Any]] ?? []).reduce(0) { $0 + (number($1, "leaked") ?? 0) }
        #expect(unreferenced == planted)
        #expect(leaked == planted)
    }
}
