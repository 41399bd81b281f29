import Foundation
import Testing
import TestFixtures

/// `leaks --anchored-by` on the leaker sample, whose objects are anchored in exactly one way
/// each: by a global array (module data), by a local array on one worker thread's stack, or
/// through a heap list whose head is a global. Each subset must hold exactly its objects.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct AnchoredBySubsetTests {
    func number(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? 0 }

    /// The row of a truth type: by magic value or by class name.
    func row(of type: [String: Any], in suspects: [[String: Any]]) -> [String: Any]? {
        if let value = type["value"] as? String {
            return suspects.first { $0["kind"] as? String == "magic" && $0["value"] as? String == value }
        }
        return suspects.first { $0["kind"] as? String == "type" && $0["name"] as? String == type["name"] as? String }
    }

    @Test func eachSubsetHoldsExactlyTheObjectsItAloneAnchors() throws {
        let sample = try SampleCores.core("leaker")
        let types = try #require(sample.truth["types"] as? [[String: Any]])
        let tid = try #require(sample.int("stack_thread_tid"))
        let subsets: [(String, (([String: Any]) -> Int))] = [
            ("stack", { self.number($0["anchored_stack"]) }),
            ("thread:\(tid)", { self.number($0["anchored_stack"]) }),
            ("module-data", { self.number($0["anchored_global"]) + self.number($0["anchored_chain"]) }),
            ("register", { _ in 0 }),
        ]
        for (subset, expected) in subsets {
            let report = try HeapscanProcess.json(["leaks", sample.path, "--anchored-by", subset, "--min-count", "1", "--top", "0"])
            let suspects = try #require(report["suspects"] as? [[String: Any]])
            #expect(report["anchoredOnlyBy"] as? String != nil, "\(subset)")
            var listed = 0
            for type in types {
                let count = row(of: type, in: suspects).map { number($0["count"]) } ?? 0
                #expect(count == expected(type), "\(subset): \(type["name"] ?? "?")")
                listed += count
            }
            // Every listed allocation is anchored, and the subset's total covers the rows.
            #expect(suspects.allSatisfy { number($0["leaked"]) == 0 }, "\(subset)")
            #expect(number(report["selectedAllocations"]) >= listed, "\(subset)")
        }
    }

    @Test func aThreadTheCoreLacksOrAnUnknownSubsetIsOneLine() throws {
        let sample = try SampleCores.core("leaker")
        for subset in ["thread:999999999", "heap", "thread:x"] {
            let result = try HeapscanProcess.run(["leaks", sample.path, "--anchored-by", subset])
            #expect(result.status == 1, "\(subset)")
            #expect(!result.crashed)
            #expect(result.stderr.hasPrefix("heapscan: ") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        let both = try HeapscanProcess.run(["leaks", sample.path, "--anchored-by", "stack", "--leaked-only"])
        #expect(both.status == 1)
    }
}
