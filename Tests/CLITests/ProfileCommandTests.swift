import Foundation
import Testing
import TestFixtures

/// `heapscan profile` end to end on the jemalloc-prof core: frames named through the
/// executable's symbols, per call site what the program did, and a clear refusal without
/// profiling data.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb (make test installs them)"))
struct ProfileCommandTests {
    static func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }

    /// Stacks whose first frame outside jemalloc is in `function`, the innermost named caller
    /// being the sample's `tagged` helper.
    static func stacks(of function: String, in report: [String: Any]) -> [[String: Any]] {
        (report["stacks"] as? [[String: Any]] ?? []).filter { stack in
            let callers = (stack["frames"] as? [[String: Any]] ?? []).filter { $0["caller"] as? Bool == true }
            return callers.count >= 2 && callers[0]["function"] as? String == "tagged" && callers[1]["function"] as? String == function
        }
    }

    @Test func everyCallSiteHasItsLiveObjectsAndTheLeakSiteItsLeaks() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let report = try HeapscanProcess.json(["profile", sample.path, "--top", "0"])
        let dump = try JemallocHeapDump(path: String(sample.path.dropLast(".core".count)) + ".heap")
        #expect(Self.int(report["sampledAllocations"]) == Int(dump.total.objects))
        for site in sample.truth["sites"] as? [[String: Any]] ?? [] {
            let name = try #require(site["function"] as? String)
            let mine = Self.stacks(of: name, in: report)
            let live = try #require(Self.int(site["live"]))
            #expect(mine.reduce(0) { $0 + (Self.int($1["objects"]) ?? 0) } == live, "\(name)")
            if live == 0 { #expect(mine.isEmpty, "\(name) freed everything") }
            let leaked = mine.reduce(0) { $0 + (Self.int($1["leakedObjects"]) ?? 0) }
            #expect(leaked == Self.int(site["leaked"]), "\(name)")
            // The symbolised caller has its source line from the sample's DWARF.
            for stack in mine {
                let frames = stack["frames"] as? [[String: Any]] ?? []
                #expect(frames.contains { ($0["source"] as? String)?.hasPrefix("jemalloc-prof.c:") == true })
            }
        }
    }

    @Test func leakedOnlyFoldsTheLeakSitesBytes() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let result = try HeapscanProcess.run(["profile", sample.path, "--format", "folded", "--leaked-only"])
        #expect(result.status == 0 && !result.crashed, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.contains(";leak_site;tagged "), "\(line)")
            #expect(Int(line.split(separator: " ").last ?? "") ?? 0 > 0)
        }
    }

    /// jeprof reads `--format jeprof` output and says exactly what it says of jemalloc's own dump.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/jeprof"), "needs jeprof (libjemalloc-dev)"))
    func jeprofReadsTheJeprofFormatAsItReadsJemallocsDump() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let result = try HeapscanProcess.run(["profile", sample.path, "--format", "jeprof", "--lg-sample", "0"])
        #expect(result.status == 0 && !result.crashed, "\(result.stderr)")
        let mine = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-profile-\(getpid()).heap")
        try Data(result.stdout.utf8).write(to: mine)
        defer { try? FileManager.default.removeItem(at: mine) }
        let executable = SampleCores.coreDirectory.appendingPathComponent("jemalloc-prof").path
        func jeprof(_ profile: String) throws -> [Substring] {
            try SampleCores.run(["jeprof", "--text", executable, profile]).split(separator: "\n")
        }
        let theirs = try jeprof(String(sample.path.dropLast(".core".count)) + ".heap")
        let ours = try jeprof(mine.path)
        #expect(theirs.count > 5)
        #expect(ours == theirs)
        #expect(ours.contains { $0.hasSuffix(" leak_site") })
    }

    @Test func leaksSaysOnOneLineThatTheCoreHasStacks() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let dump = try JemallocHeapDump(path: String(sample.path.dropLast(".core".count)) + ".heap")
        let live = dump.stacks.filter { $0.total.objects > 0 }.count
        let result = try HeapscanProcess.run(["leaks", sample.path])
        #expect(result.status == 0 && !result.crashed)
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("prof ") }
        #expect(lines == ["prof       \(groupedDigits(Int(dump.total.objects))) sampled live allocations in \(groupedDigits(live)) stacks (heapscan profile)"])
        let plain = try HeapscanProcess.run(["leaks", try SampleCores.core("jemalloc").path])
        #expect(!plain.stdout.split(separator: "\n").contains { $0.hasPrefix("prof ") })
    }

    @Test func showNamesTheStackOfASampledAllocation() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let leakSite = try #require((sample.truth["sites"] as? [[String: Any]])?.first)
        let address = try #require((leakSite["leaked_addresses"] as? [String])?.last)
        let result = try HeapscanProcess.run(["show", sample.path, address])
        #expect(result.status == 0 && !result.crashed, "\(result.stderr)")
        let stack = result.stdout.components(separatedBy: "\nallocated at (sampled by jemalloc's profiler, thread t0, 40 bytes requested):\n")
        #expect(stack.count == 2, "\(result.stdout)")
        let frames = stack.last?.split(separator: "\n") ?? []
        #expect(frames.first?.hasPrefix("    tagged+") == true)
        #expect(frames.dropFirst().first?.hasPrefix("    leak_site+") == true, "\(frames)")
    }

    /// With the sampling rate, each stack's estimate is jeprof's: at lg_prof_sample 0 every
    /// allocation is sampled and the estimate is the count; at the default rate the estimated
    /// total is what jeprof makes of the same samples.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/jeprof"), "needs jeprof (libjemalloc-dev)"))
    func estimatesAreJeprofs() throws {
        let everything = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let exact = try HeapscanProcess.json(["profile", everything.path, "--top", "0", "--lg-sample", "0"])
        for stack in exact["stacks"] as? [[String: Any]] ?? [] {
            #expect((stack["estimatedObjects"] as? Double)?.rounded() == (stack["objects"] as? NSNumber)?.doubleValue)
        }
        let sampled = try SampleCores.core("jemalloc-prof", ["19", "10000"])
        let report = try HeapscanProcess.json(["profile", sampled.path, "--top", "0", "--lg-sample", "19"])
        let stacks = report["stacks"] as? [[String: Any]] ?? []
        #expect(!stacks.isEmpty)
        let estimated = stacks.reduce(0.0) { $0 + (($1["estimatedBytes"] as? Double) ?? 0) }
        let result = try HeapscanProcess.run(["profile", sampled.path, "--format", "jeprof", "--lg-sample", "19"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-profile-\(UUID().uuidString).heap")
        try Data(result.stdout.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let executable = SampleCores.coreDirectory.appendingPathComponent("jemalloc-prof").path
        let text = try SampleCores.run(["jeprof", "--text", "--show_bytes", executable, file.path])
        let total = try #require(text.split(separator: "\n").first { $0.hasPrefix("Total: ") })
        let jeprofBytes = try #require(Double(total.dropFirst(7).split(separator: " ").first ?? ""))
        #expect(abs(estimated - jeprofBytes) <= Double(stacks.count), "ours \(estimated), jeprof \(jeprofBytes)")
    }

    @Test func withoutProfilingItSaysSoOnOneLine() throws {
        let sample = try SampleCores.core("jemalloc")
        let result = try HeapscanProcess.run(["profile", sample.path])
        #expect(result.status == 1 && !result.crashed)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "heapscan: \(sample.path): the process did not run with MALLOC_CONF=prof:true\n")
    }
}
