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
    @Test(arguments: ["service", "dbserver", "containers"])
    func restartWithTheSameInputChangesNoGroup(_ name: String) throws {
        // The default arguments spelled out name another output, so the program really runs twice.
        let first = try SampleCores.core(name)
        let second = try SampleCores.core(name, name == "containers" ? ["1"] : ["1", "1"])
        #expect(first.int("pid") != second.int("pid"))
        let diff = try HeapscanProcess.json(["diff", first.path, second.path, "--top", "0"])
        let rows = try #require(diff["rows"] as? [[String: Any]])
        // dbserver runs its workers one after another, and containers has one thread, so their
        // heaps are the same block for block: map nodes' colours and padding, hash nodes' order
        // and string bodies' sizes must group alike in both runs.
        // service's workers run at once: how far a vector grew before a worker parked depends on
        // scheduling, so block sizes may really differ (320 -> 640 bytes), but no type or magic
        // group may: those are what address-dependent leftovers would split.
        let deterministic = name != "service"
        // Likewise a container's buffer (a vector body, a deque map) may have grown further, so
        // only a container group's count must not change.
        let changed = deterministic ? rows : rows.filter {
            $0["kind"] as? String != "size" && !($0["kind"] as? String == "container" && $0["countDelta"] as? Int == 0)
        }
        #expect(changed.isEmpty, "groups changed between two runs of \(name): \(changed.prefix(10).map { "\($0["name"] ?? "?") \($0["oldCount"] ?? "?")->\($0["newCount"] ?? "?")" })")
        if deterministic {
            #expect((diff["oldUsedBytes"] as? NSNumber) == (diff["newUsedBytes"] as? NSNumber))
        }
    }
}
