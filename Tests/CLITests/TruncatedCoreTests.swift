import Foundation
import Testing
import TestFixtures

/// gdb writes a core's notes last, so a core cut by its last 30 000 bytes has lost every
/// thread note (and NT_FILE, NT_AUXV) while its heap segments are all there. `heap` and
/// `leaks` still report that heap, with the intact core's counts: tcaches and thread caches
/// are found without thread pointers, jemalloc without NT_FILE.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct TruncatedCoreTests {
    static let cutBytes = 30_000

    /// A copy of `sample` without its last `cutBytes`, removed when `body` returns.
    func withCutCopy(of sample: SampleCore, _ body: (String) throws -> Void) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: sample.path))
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("heapscan-cut-\(getpid())-\(URL(fileURLWithPath: sample.path).lastPathComponent)").path
        try data.prefix(data.count - Self.cutBytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    func number(_ object: [String: Any], _ keys: String...) -> Int? {
        var current: Any? = object
        for key in keys { current = (current as? [String: Any])?[key] }
        return (current as? NSNumber)?.intValue
    }

    @Test func glibcTcacheChunksStayFree() throws {
        let sample = try SampleCores.core("mallocsizes")
        let intact = try HeapscanProcess.json(["heap", sample.path])
        try withCutCopy(of: sample) { cut in
            let heap = try HeapscanProcess.json(["heap", cut])
            for key in ["usedAllocations", "usedBytes", "freeChunks", "freeBytes"] {
                #expect(number(heap, "totals", key) == number(intact, "totals", key), "totals.\(key)")
            }
            let warnings = heap["warnings"] as? [String] ?? []
            #expect(warnings.contains { $0.hasPrefix("no thread pointers in the core") }, "\(warnings)")
            #expect(warnings.count < 10, "\(warnings)")
            let leaks = try HeapscanProcess.json(["leaks", cut])
            #expect(number(leaks, "usedAllocations") == number(intact, "totals", "usedAllocations"))
        }
    }

    @Test func jemallocHeapIsStillRead() throws {
        let sample = try SampleCores.core("jemalloc")
        let intact = try HeapscanProcess.json(["heap", sample.path])
        try withCutCopy(of: sample) { cut in
            let heap = try HeapscanProcess.json(["heap", cut])
            #expect(heap["allocator"] as? String == intact["allocator"] as? String)
            for key in ["allocated", "active", "cachedInThreads", "slabs", "largeExtents"] {
                #expect(number(heap, "totals", key) == number(intact, "totals", key), "totals.\(key)")
            }
            let cached = { (report: [String: Any]) in
                (report["threadCaches"] as? [[String: Any]] ?? []).map { self.number($0, "count") ?? 0 }.reduce(0, +)
            }
            #expect(cached(heap) == cached(intact))
            #expect(cached(intact) > 0)
            let warnings = heap["warnings"] as? [String] ?? []
            #expect(warnings.count < 10, "\(warnings)")
            let intactLeaks = try HeapscanProcess.json(["leaks", sample.path])
            let leaks = try HeapscanProcess.json(["leaks", cut])
            #expect(number(leaks, "usedAllocations") == number(intactLeaks, "usedAllocations"))
            #expect(number(leaks, "usedBytes") == number(intactLeaks, "usedBytes"))
        }
    }
}
