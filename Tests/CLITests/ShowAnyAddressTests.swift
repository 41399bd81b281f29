import Foundation
import Testing
import TestFixtures

/// `show` on addresses that are in no allocation: the leaker sample's global anchor array (module
/// data) and its stack thread's local array, whose first words are known anchored objects.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct ShowAnyAddressTests {
    @Test func moduleDataAndStacksAreDescribed() throws {
        let sample = try SampleCores.core("leaker")
        let session = try #require((sample.truth["types"] as? [[String: Any]])?.first { $0["name"] as? String == "Session" })
        let tid = try #require(sample.int("stack_thread_tid"))

        let global = try HeapscanProcess.json(["show", sample.path, try #require(session["global_array"] as? String), "--bytes", "8"])
        #expect(global["region"] as? String == "file")
        #expect((global["symbol"] as? String)?.hasPrefix("g_global_anchors") == true, "\(global)")
        let first = try #require((global["words"] as? [[String: Any]])?.first)
        #expect(first["value"] as? String == session["example_anchored_global"] as? String)
        #expect((first["pointsTo"] as? String)?.contains("(Session, anchored)") == true, "\(first)")

        let stack = try HeapscanProcess.json(["show", sample.path, try #require(sample.truth["stack_array"] as? String), "--bytes", "8"])
        #expect(stack["region"] as? String == "stack")
        #expect(stack["regionName"] as? String == "stack of thread \(tid)")
        #expect((stack["note"] as? String)?.hasPrefix("live stack of thread \(tid)") == true, "\(stack)")
        // The frame that holds the local array, as the unwinder finds it.
        #expect((stack["note"] as? String)?.contains("stack_worker") == true, "\(stack)")
        let local = try #require((stack["words"] as? [[String: Any]])?.first)
        #expect(local["value"] as? String == session["example_anchored_stack"] as? String)
    }

    @Test func anUnmappedAddressIsAnError() throws {
        let sample = try SampleCores.core("leaker")
        let result = try HeapscanProcess.run(["show", sample.path, "0x10"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("not inside an allocation nor mapped"))
    }
}
