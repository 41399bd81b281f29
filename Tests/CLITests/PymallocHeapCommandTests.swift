import Foundation
import Testing
import TestFixtures

/// `heapscan heap` on a CPython core: the pymalloc section says what pymalloc itself printed
/// (`sys._debugmallocstats()`) at the stop, and `--address` names a pymalloc block.
@Suite(.enabled(if: SampleCores.canMakeCores && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3.11"),
                "needs gcc, gdb and Debian's python3.11 (make test installs them)"))
struct PymallocHeapCommandTests {
    func number(_ object: [String: Any]?, _ key: String) -> Int? { (object?[key] as? NSNumber)?.intValue }

    @Test func jsonSizeClassesAreDebugMallocStats() throws {
        let sample = try SampleCores.core("pymalloc")
        let truth = try #require(sample.truth["pymalloc"] as? [String: Any])
        let report = try HeapscanProcess.json(["heap", sample.path])
        #expect((report["allocator"] as? String)?.hasPrefix("glibc 2.") == true)
        let pymalloc = try #require(report["pymalloc"] as? [String: Any])
        #expect(pymalloc["allocator"] as? String == "pymalloc (CPython 3.11)")
        #expect(pymalloc["interpreter"] as? String == "/usr/bin/python3.11")
        let totals = pymalloc["totals"] as? [String: Any]
        #expect(number(totals, "usedBlocks") == number(truth, "usedBlocks"))
        #expect(number(totals, "usedBytes") == number(truth, "usedBytes"))
        #expect(number(totals, "availableBlocks") == number(truth, "availableBlocks"))
        #expect(number(totals, "usedPools") == number(truth, "usedPools"))
        #expect(number(totals, "arenas") == number(truth, "arenas"))
        #expect(number(totals, "arenasInsideMallocBlocks") == 0)
        let rows = try #require(pymalloc["sizeClasses"] as? [[String: Any]])
        let expected = (truth["sizeClasses"] as? [[String: Any]] ?? []).map { [number($0, "sizeClass"), number($0, "size"), number($0, "pools"), number($0, "used"), number($0, "available")] }
        let found = rows.map { [number($0, "sizeClass"), number($0, "blockSize"), number($0, "pools"), number($0, "usedBlocks"), number($0, "availableBlocks")] }
        #expect(found.sorted { ($0[0] ?? 0) < ($1[0] ?? 0) } == expected)
        #expect((pymalloc["warnings"] as? [Any])?.isEmpty == true)
    }

    @Test func textSaysHowPymallocWasFoundAndNamesABlock() throws {
        let sample = try SampleCores.core("pymalloc")
        let truth = try #require(sample.truth["pymalloc"] as? [String: Any])
        let report = try HeapscanProcess.json(["heap", sample.path])
        let arena = try #require(((report["pymalloc"] as? [String: Any])?["arenas"] as? [[String: Any]])?.first)
        let start = try #require(UInt64((arena["start"] as? String ?? "").dropFirst(2), radix: 16))
        let result = try HeapscanProcess.run(["heap", sample.path, "--address", "0x" + String(start + 48 + 5, radix: 16)])
        #expect(result.status == 0 && !result.crashed)
        #expect(result.stdout.contains("allocator  pymalloc (CPython 3.11), /usr/bin/python3.11"))
        #expect(result.stdout.contains("method     pool headers found in anonymous memory (no symbols)"))
        #expect(result.stdout.contains("arenas     \(number(truth, "arenas") ?? -1) of 1.0 MiB, each a mapping of its own"))
        #expect(result.stdout.contains("used       \(groupedDigits(number(truth, "usedBlocks") ?? -1)) blocks"))
        #expect(result.stdout.contains("0x\(String(start + 53, radix: 16)) is at offset 5 in the "), "\(result.stdout)")
    }
}

extension PymallocHeapCommandTests {
    /// `leaks` counts glibc's chunks and pymalloc's blocks: what `heap` shows in its two parts.
    @Test func leaksCountsGlibcAndPymallocUsedAllocations() throws {
        let sample = try SampleCores.core("pymalloc")
        let heap = try HeapscanProcess.json(["heap", sample.path])
        let leaks = try HeapscanProcess.json(["leaks", sample.path])
        let glibc = try #require(number(heap["totals"] as? [String: Any], "usedAllocations"))
        let pymalloc = try #require(number((heap["pymalloc"] as? [String: Any])?["totals"] as? [String: Any], "usedBlocks"))
        #expect(number(leaks, "usedAllocations") == glibc + pymalloc)
        #expect((leaks["allocator"] as? String)?.hasSuffix(" and pymalloc (CPython 3.11)") == true)
    }
}

extension PymallocHeapCommandTests {
    /// The interpreter run with libjemalloc preloaded: `heap` shows jemalloc and pymalloc, and
    /// the allocation table holds both.
    @Test func jemallocProcessShowsBothAllocators() throws {
        let sample = try SampleCores.core("pymalloc-jemalloc")
        let truth = try #require(sample.truth["pymalloc"] as? [String: Any])
        let heap = try HeapscanProcess.json(["heap", sample.path])
        #expect((heap["allocator"] as? String)?.hasPrefix("jemalloc 5.3") == true)
        let pymalloc = try #require(heap["pymalloc"] as? [String: Any])
        let totals = pymalloc["totals"] as? [String: Any]
        #expect(number(totals, "usedBlocks") == number(truth, "usedBlocks"))
        #expect(number(totals, "availableBlocks") == number(truth, "availableBlocks"))
        #expect(number(totals, "arenas") == number(truth, "arenas"))
        let jemallocUsed = try #require(number(heap["totals"] as? [String: Any], "usedAllocations"))
        let leaks = try HeapscanProcess.json(["leaks", sample.path])
        #expect(leaks["allocator"] as? String == "jemalloc 5.3.0 and pymalloc (CPython 3.11)")
        #expect(number(leaks, "usedAllocations") == jemallocUsed + (number(totals, "usedBlocks") ?? -1))
    }
}
