import Foundation
import Testing
import TestFixtures

/// `--pid` and `snapshot` on a running leaker sample: the answers equal its truth and a gcore
/// of the same moment, gdb reads the snapshot with every thread, and the sample is running
/// afterwards, also when heapscan is interrupted or killed while it holds the process.
@Suite(.serialized, .enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct LiveProcessTests {
    @Test func pidAnswersEqualTheTruthAndAGcore() throws {
        let sample = try RunningSample("leaker")
        let leaks = try HeapscanProcess.run(["leaks", "--pid", String(sample.pid), "--top", "100", "--format", "json"])
        #expect(sample.isRunning, "states after --pid: \(sample.threadStates())")
        #expect(leaks.stderr.hasPrefix("heapscan: pid \(sample.pid): stopped for "), "\(leaks.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(leaks.stdout.utf8)) as? [String: Any],
                                  "\(leaks.stderr)")
        let suspects = try #require(report["suspects"] as? [[String: Any]])
        let types = try #require(sample.truth["types"] as? [[String: Any]])
        for type in types {
            guard let value = type["value"] as? String else { continue }
            let row = try #require(suspects.first { $0["kind"] as? String == "magic" && $0["value"] as? String == value })
            #expect((row["leaked"] as? NSNumber)?.intValue == (type["leaked"] as? NSNumber)?.intValue, "\(value)")
            #expect((row["anchored"] as? NSNumber)?.intValue == (type["anchored"] as? NSNumber)?.intValue, "\(value)")
            // The follow-up command reads the same process again.
            #expect(row["command"] as? String == "heapscan find --pid \(sample.pid) \(value) --width 4 --context 64 --limit 20")
        }
        let leakedTotal = types.reduce(0) { $0 + ((($1["leaked"] as? NSNumber)?.intValue) ?? 0) }
        #expect((report["leakedAllocations"] as? NSNumber)?.intValue == leakedTotal)

        let gcore = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-live-gcore-\(getpid())").path
        try SampleCores.run(["gcore", "-o", gcore, String(sample.pid)])
        let gcorePath = gcore + ".\(sample.pid)"
        defer { try? FileManager.default.removeItem(atPath: gcorePath) }
        #expect(sample.isRunning, "states after gcore: \(sample.threadStates())")
        for command in [["heap"], ["leaks"], ["find", "0xc0ffee11"]] {
            let live = try InputVariants.answer(
                HeapscanProcess.run([command[0], "--pid", String(sample.pid)] + command.dropFirst() + ["--format", "json"]),
                "\(command[0]) --pid", input: "pid \(sample.pid)")
            let fromGcore = try InputVariants.answer(
                HeapscanProcess.run([command[0], gcorePath] + command.dropFirst() + ["--format", "json"]),
                "\(command[0]) gcore", input: gcorePath)
            // Follow-up commands name the input as it was given: --pid N here, the path there.
            let sameInput = live.replacingOccurrences(of: "--pid \(sample.pid)", with: "CORE")
                .replacingOccurrences(of: "--CORE", with: "CORE")
            #expect(sameInput == fromGcore, "\(command[0]) differs between --pid and gcore")
        }
        #expect(sample.isRunning)
    }

    @Test func snapshotIsACoreGdbReadsWithEveryThread() throws {
        let sample = try RunningSample("leaker")
        let core = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-snapshot-\(getpid()).core").path
        defer { try? FileManager.default.removeItem(atPath: core) }
        let made = try HeapscanProcess.run(["snapshot", String(sample.pid), "-o", core])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(sample.isRunning)
        let threadCount = sample.threadStates().count
        #expect(threadCount >= 2)
        let gdb = try SampleCores.run(["gdb", "-batch", "-nx", "-ex", "info threads", sample.executable, core])
        // The rows of the thread table: "* 1    Thread 0x… (LWP 123) …", "  2    Thread …".
        let lwps = gdb.split(separator: "\n").filter {
            $0.contains("(LWP ") && $0.drop { $0 == " " || $0 == "*" }.first?.isNumber == true
        }
        #expect(lwps.count == threadCount, "gdb says:\n\(gdb)")
        #expect(lwps.contains { $0.contains("(LWP \(sample.pid))") })
        let info = try HeapscanProcess.json(["info", core])
        #expect((info["threads"] as? [Any])?.count == threadCount)
        // Only what coredump_filter left out may be warned about: no note is missing or damaged.
        let warnings = (info["warnings"] as? [String]) ?? []
        #expect(warnings.allSatisfy { $0.contains("in the core") }, "\(warnings)")
        let modules = (info["modules"] as? [[String: Any]]) ?? []
        for library in ["leaker", "libc.so.6", "libstdc++.so.6"] {
            #expect(modules.contains { ($0["name"] as? String)?.hasPrefix(library) == true }, "no module \(library) from NT_FILE")
        }
    }

    /// Interrupted or killed at any moment, heapscan never leaves the process stopped.
    @Test func interruptedOrKilledHeapscanLeavesTheProcessRunning() throws {
        let sample = try RunningSample("leaker")
        for (round, signal) in [SIGINT, SIGTERM, SIGKILL, SIGINT, SIGTERM, SIGKILL, SIGINT, SIGINT].enumerated() {
            let process = Process()
            process.executableURL = HeapscanProcess.executable
            process.arguments = ["heap", "--pid", String(sample.pid)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(round * 3_000))
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            let deadline = Date().addingTimeInterval(5)
            while !sample.isRunning && Date() < deadline { usleep(10_000) }
            #expect(sample.isRunning, "after signal \(signal) at \(round * 3) ms: \(sample.threadStates())")
        }
    }

    @Test func refusalsAreOneLine() throws {
        let missing = try HeapscanProcess.run(["heap", "--pid", "999999999"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "heapscan: pid 999999999: no such process\n")
        let both = try HeapscanProcess.run(["heap", "/nonexistent", "--pid", "1"])
        #expect(both.status == 64, "\(both.stderr)")
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let sample = try RunningSample("leaker")
        let denied = try InputVariants.shell(
            "setpriv --reuid=65534 --regid=65534 --clear-groups \"$HEAPSCAN\" heap --pid \(sample.pid)")
        #expect(denied.status == 1)
        #expect(denied.stderr.hasPrefix("heapscan: pid \(sample.pid): not permitted to stop the process"), "\(denied.stderr)")
        #expect(sample.isRunning)
    }
}
