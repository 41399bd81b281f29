import Foundation
import Testing
import TestFixtures

/// A core that shrinks while heapscan reads it (a crash handler re-dumping, `cp` over it) ends
/// in one line and exit status 1, never a SIGBUS death. The run is stopped (SIGSTOP) as soon as
/// the core is mapped, the copy is cut to half its size, and the run continues: every read past
/// the new end is one that would have killed it.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct ShrinkingCoreTests {
    /// A core whose heap fills most of the file (about 50 MB), so the scans read far past half.
    static func largeCore() throws -> SampleCore { try SampleCores.core("leaker", ["2000"]) }

    @Test(arguments: [["words"], ["find", "0x1"]])
    func truncatedWhileScanningIsOneLine(_ command: [String]) throws {
        let sample = try Self.largeCore()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("heapscan-shrink-\(getpid())-\(command[0])")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("shrinking.core").path
        try FileManager.default.copyItem(atPath: sample.path, toPath: copy)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? NSNumber).intValue

        let process = Process()
        process.executableURL = HeapscanProcess.executable
        process.arguments = [command[0], copy] + command.dropFirst()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let pid = process.processIdentifier
        let mapped = Self.waitUntilMapped(copy, pid: pid)
        kill(pid, SIGSTOP)
        #expect(truncate(copy, off_t(size / 2)) == 0)
        kill(pid, SIGCONT)
        let errData = stderr.fileHandleForReading.readDataToEndOfFile()
        let outData = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()

        try #require(mapped, "heapscan ended before it mapped the core")
        #expect(process.terminationReason == .exit, "heapscan died by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 1)
        #expect(String(decoding: errData, as: UTF8.self) == "heapscan: \(copy): changed size while being read\n")
        #expect(outData.isEmpty, "results from a shrunken core: \(String(decoding: outData, as: UTF8.self))")
    }

    /// Polls /proc/PID/maps until `path` is mapped; false when the process ended first.
    static func waitUntilMapped(_ path: String, pid: Int32) -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard let maps = try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8) else { return false }
            if maps.contains(path) { return true }
            usleep(200)
        }
        return false
    }
}
