import Foundation
import Testing
import TestFixtures

/// `leaks`, `explain` and `diff` on the leaker sample, whose leaked and anchored objects are
/// known exactly: every count must equal the program's own truth.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct LeakerSampleTests {
    func types(_ sample: SampleCore) -> [[String: Any]] { sample.truth["types"] as? [[String: Any]] ?? [] }

    /// The suspect row that holds a truth type: by magic value, by class name, or by block size.
    func suspectRow(for type: [String: Any], in suspects: [[String: Any]]) -> [String: Any]? {
        if let value = type["value"] as? String {
            return suspects.first { $0["kind"] as? String == "magic" && $0["value"] as? String == value }
        }
        let name = type["name"] as? String
        if let byName = suspects.first(where: { $0["kind"] as? String == "type" && $0["name"] as? String == name }) {
            return byName
        }
        let size = (type["object_size"] as? NSNumber)?.intValue ?? 0
        let block = max(32, (size + 8 + 15) / 16 * 16)
        return suspects.first { $0["kind"] as? String == "size" && $0["name"] as? String == "\(block)-byte blocks" }
    }

    @Test func leakedAndAnchoredCountsEqualTruth() throws {
        let sample = try SampleCores.core("leaker")
        let report = try HeapscanProcess.json(["leaks", sample.path, "--top", "100"])
        let suspects = try #require(report["suspects"] as? [[String: Any]])
        #expect(report["reachabilityKnown"] as? Bool == true)
        for type in types(sample) {
            let row = try #require(suspectRow(for: type, in: suspects), "no suspect for \(type["name"] ?? "?")")
            #expect((row["leaked"] as? NSNumber)?.intValue == (type["leaked"] as? NSNumber)?.intValue, "\(type["name"] ?? "?")")
            #expect((row["anchored"] as? NSNumber)?.intValue == (type["anchored"] as? NSNumber)?.intValue, "\(type["name"] ?? "?")")
            #expect((row["count"] as? NSNumber)?.intValue == (type["total"] as? NSNumber)?.intValue, "\(type["name"] ?? "?")")
        }
        let leakedTotal = types(sample).reduce(0) { $0 + ((($1["leaked"] as? NSNumber)?.intValue) ?? 0) }
        #expect((report["leakedAllocations"] as? NSNumber)?.intValue == leakedTotal)
    }

    @Test func leakedOnlyRanksThePlantedLeakFirst() throws {
        let sample = try SampleCores.core("leaker")
        let report = try HeapscanProcess.json(["leaks", sample.path, "--leaked-only"])
        let first = try #require((report["suspects"] as? [[String: Any]])?.first)
        let biggest = try #require(types(sample).max {
            ($0["leaked"] as! NSNumber).intValue * ($0["object_size"] as! NSNumber).intValue
                < ($1["leaked"] as! NSNumber).intValue * ($1["object_size"] as! NSNumber).intValue
        })
        #expect(first["value"] as? String == biggest["value"] as? String || first["name"] as? String == biggest["name"] as? String)
        #expect((first["anchored"] as? NSNumber)?.intValue == 0)
    }

    @Test func explainEndsAtTheRightRootKind() throws {
        let sample = try SampleCores.core("leaker")
        for type in types(sample) {
            let expectations: [(String, String, Int)] = [
                ("example_anchored_global", "module-data", 1),
                ("example_anchored_stack", "stack", 1),
                ("example_anchored_chain", "module-data", 2),
            ]
            for (key, rootKind, minimumLinks) in expectations {
                let address = try #require(type[key] as? String)
                let chain = try HeapscanProcess.json(["explain", sample.path, address])
                #expect(chain["liveness"] as? String == "anchored", "\(key) \(address)")
                #expect(chain["rootKind"] as? String == rootKind, "\(key) \(address)")
                let links = chain["links"] as? [[String: Any]] ?? []
                #expect(links.count >= minimumLinks, "\(key) \(address)")
                #expect(links.last?["allocation"] as? String == address)
                if rootKind == "stack" {
                    // The unwinder names the frame whose locals hold the pointer.
                    let frame = links.first?["frame"] as? String ?? ""
                    #expect(frame.hasPrefix("frame #") && frame.contains("stack_worker"), "\(key): frame '\(frame)'")
                }
            }
            let leaked = try #require(type["example_leaked"] as? String)
            let chain = try HeapscanProcess.json(["explain", sample.path, leaked])
            #expect(chain["liveness"] as? String == "unreferenced")
        }
    }

    @Test func diffPutsTheGrowingLeakFirstWithTheExactDelta() throws {
        let one = try SampleCores.core("leaker", ["1"])
        let three = try SampleCores.core("leaker", ["3"])
        let diff = try HeapscanProcess.json(["diff", one.path, three.path])
        let rows = try #require(diff["rows"] as? [[String: Any]])
        let first = try #require(rows.first)
        let byBytes = types(one).max {
            ($0["leaked_per_round"] as! NSNumber).intValue * ($0["object_size"] as! NSNumber).intValue
                < ($1["leaked_per_round"] as! NSNumber).intValue * ($1["object_size"] as! NSNumber).intValue
        }!
        #expect(first["value"] as? String == byBytes["value"] as? String || first["name"] as? String == byBytes["name"] as? String)
        for type in types(one) {
            let perRound = try #require((type["leaked_per_round"] as? NSNumber)?.intValue)
            let row = try #require(suspectRow(for: type, in: rows), "no diff row for \(type["name"] ?? "?")")
            #expect((row["countDelta"] as? NSNumber)?.intValue == 2 * perRound, "\(type["name"] ?? "?")")
        }
        let same = try HeapscanProcess.json(["diff", one.path, one.path])
        #expect((same["rows"] as? [Any])?.isEmpty == true)
    }
}

/// A diff of cores of different programs is refused unless forced.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct DiffProgramCheckTests {
    @Test func refusesCoresOfDifferentPrograms() throws {
        let leaker = try SampleCores.core("leaker")
        let magic = try SampleCores.core("magic")
        let refused = try HeapscanProcess.run(["diff", leaker.path, magic.path])
        #expect(refused.status == 1 && !refused.crashed)
        #expect(refused.stderr.contains("different programs"))
        #expect(refused.stderr.contains("--force"))
        let forced = try HeapscanProcess.run(["diff", leaker.path, magic.path, "--force"])
        #expect(forced.status == 0)
        #expect(forced.stdout.contains("0xa11c0de5"))
    }
}

/// What the core lacks, and which roots were chosen, never changes what "no pointer anywhere"
/// means; a core cut short says so instead of reporting with confidence.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct LeakCertaintyTests {
    @Test func unreferencedIgnoresTheRootSelection() throws {
        let sample = try SampleCores.core("leaker")
        let report = try HeapscanProcess.json(["leaks", sample.path, "--roots", "stack", "--min-count", "1", "--top", "0"])
        let suspects = try #require(report["suspects"] as? [[String: Any]])
        for type in sample.truth["types"] as? [[String: Any]] ?? [] {
            let row = suspects.first {
                ($0["value"] as? String) == (type["value"] as? String) && type["value"] != nil
                    || ($0["name"] as? String) == (type["name"] as? String)
            }
            // Stack roots alone anchor only the stack-held objects; the truly leaked ones are
            // still the only ones nothing points to.
            #expect((row?["unreferenced"] as? NSNumber)?.intValue == (type["leaked"] as? NSNumber)?.intValue, "\(type["name"] ?? "?")")
            #expect((row?["anchored"] as? NSNumber)?.intValue == (type["anchored_stack"] as? NSNumber)?.intValue, "\(type["name"] ?? "?")")
        }
    }

    @Test func truncatedCoreWarnsAndHeapWithoutAllocatorFails() throws {
        let sample = try SampleCores.core("leaker")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: sample.path))
        let cut = try SyntheticCore.writeTemporary(Array(bytes.prefix(bytes.count * 2 / 3)), name: "leaker-cut")
        let result = try HeapscanProcess.run(["leaks", cut])
        #expect(!result.crashed)
        if result.status == 0 {
            #expect(result.stdout.contains("truncated"), "\(result.stdout)")
        }
        let tiny = try SyntheticCore.writeTemporary(Array(bytes.prefix(4000)), name: "leaker-tiny")
        let heap = try HeapscanProcess.run(["heap", tiny])
        #expect(heap.status == 1 && !heap.crashed)
        #expect(heap.stderr.hasPrefix("heapscan: \(tiny): "))
    }

    @Test func gdbFormatCountsEveryMatch() throws {
        let sample = try SampleCores.core("magic")
        let counted = try HeapscanProcess.run(["find", sample.path, "0xa11c0de5", "--count", "--format", "gdb"])
        #expect(counted.stdout == "1100 patterns found.\n")
        let limited = try HeapscanProcess.run(["find", sample.path, "0xa11c0de5", "0xa11c0de5", "--limit", "2", "--format", "gdb"])
        #expect(limited.stdout.split(separator: "\n").count == 3)
        #expect(limited.stdout.hasSuffix("1100 patterns found.\n"))
    }
}

/// `--progress` reports each phase of `leaks` on stderr when stderr is not a terminal, and
/// leaves stdout (the JSON) as it is without it.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct LeaksProgressTests {
    @Test func phasesGoToStderrOnly() throws {
        let sample = try SampleCores.core("leaker")
        let plain = try HeapscanProcess.run(["leaks", sample.path, "--format", "json"])
        let reported = try HeapscanProcess.run(["leaks", sample.path, "--format", "json", "--progress"])
        #expect(reported.status == 0)
        #expect(reported.stdout == plain.stdout)
        #expect(plain.stderr.isEmpty)
        for phase in ["walking glibc heaps", "marking", "looking through leaked allocations", "classifying"] {
            #expect(reported.stderr.contains("heapscan: \(phase): "), "no \(phase) line in \(reported.stderr)")
        }
        #expect(reported.stderr.split(separator: "\n").count < 20)
    }

    @Test func diffReportsTheWalkOfEachCore() throws {
        let sample = try SampleCores.core("leaker")
        let plain = try HeapscanProcess.run(["diff", sample.path, sample.path, "--format", "json"])
        let reported = try HeapscanProcess.run(["diff", sample.path, sample.path, "--format", "json", "--progress"])
        #expect(reported.status == 0)
        #expect(reported.stdout == plain.stdout)
        #expect(plain.stderr.isEmpty)
        let lines = reported.stderr.split(separator: "\n")
        for phase in ["walking glibc heaps", "marking", "classifying"] {
            #expect(lines.filter { $0.hasPrefix("heapscan: \(phase): ") }.count == 2, "not one \(phase) line per core in \(reported.stderr)")
        }
        #expect(lines.allSatisfy { $0.hasPrefix("heapscan: ") })
    }
}

/// When the table and mark state would not fit in available memory they live in an unlinked
/// file mapping: the answers are the same, and stderr says so in one line. The threshold is
/// lowered through HEAPSCAN_MEMORY_AVAILABLE rather than by a core larger than the machine.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct FileBackedTableTests {
    func run(_ arguments: [String], memoryAvailable: String, tmpdir: String) throws -> HeapscanProcess.Result {
        let process = Process()
        process.executableURL = HeapscanProcess.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HEAPSCAN_MEMORY_AVAILABLE"] = memoryAvailable
        environment["TMPDIR"] = tmpdir
        process.environment = environment
        return try HeapscanProcess.collect(process)
    }

    @Test func leaksAndExplainAnswerTheSameFromAFileMapping() throws {
        let sample = try SampleCores.core("leaker")
        let types = sample.truth["types"] as? [[String: Any]] ?? []
        let anchored = try #require(types.first?["example_anchored_chain"] as? String)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-file-table-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for arguments in [["leaks", sample.path, "--format", "json"], ["explain", sample.path, anchored]] {
            let inMemory = try HeapscanProcess.run(arguments)
            let inFile = try run(arguments, memoryAvailable: "1", tmpdir: directory.path)
            #expect(inFile.status == 0 && !inFile.crashed)
            #expect(inFile.stdout == inMemory.stdout)
            #expect(inMemory.stderr.isEmpty)
            let lines = inFile.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(inFile.stderr)")
            #expect(lines.first?.hasPrefix("heapscan: the allocation table and mark state (") == true)
            #expect(lines.first?.hasSuffix("they are kept in an unlinked file in \(directory.path)") == true)
            // Unlinked at once: nothing is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
            let generous = try run(arguments, memoryAvailable: String(UInt64(1) << 40), tmpdir: directory.path)
            #expect(generous.stderr.isEmpty && generous.stdout == inMemory.stdout)
        }
    }
}
