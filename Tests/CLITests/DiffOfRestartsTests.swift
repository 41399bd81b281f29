import Foundation
import Testing
import TestFixtures

/// `diff` of two runs of one program with the same input: the heap is the same, only addresses
/// moved (ASLR, another pid), so no group may show as changed. Address-dependent leftovers (upper
/// halves of old pointers, stale bytes beside small fields) would split groups differently in each
/// run and show up here.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct DiffOfRestartsTests {
    /// The samples whose counts depend only on their arguments (Samples/README.md).
    @Test(arguments: ["service", "dbserver"])
    func restartWithTheSameInputChangesNoGroup(_ name: String) throws {
        // The default arguments spelled out name another output, so the program really runs twice.
        let first = try SampleCores.core(name)
        let second = try SampleCores.core(name, ["1", "1"])
        #expect(first.int("pid") != second.int("pid"))
        let diff = try HeapscanProcess.json(["diff", first.path, second.path, "--top", "0"])
        let rows = try #require(diff["rows"] as? [[String: Any]])
        #expect(rows.isEmpty, "groups changed between two runs of \(name): \(rows.prefix(10).map { "\($0["name"] ?? "?") \($0["oldCount"] ?? "?")->\($0["newCount"] ?? "?")" })")
        #expect((diff["oldUsedBytes"] as? NSNumber) == (diff["newUsedBytes"] as? NSNumber))
    }
}
