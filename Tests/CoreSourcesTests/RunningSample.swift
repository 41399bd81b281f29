import Foundation
import TestFixtures

/// A sample program left running (blocked in pause(), HEAPSCAN_SAMPLE_PAUSE=1) with its truth,
/// for snapshots of a live process. Killed when the test is done with it.
final class RunningSample {
    let pid: Int32
    let truth: [String: Any]
    let executable: String
    private let process: Process

    init(_ name: String) throws {
        // make-core builds the sample's binary next to its core.
        let core = try SampleCores.core(name)
        executable = URL(fileURLWithPath: core.path).deletingLastPathComponent().appendingPathComponent(name).path
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.environment = ProcessInfo.processInfo.environment.merging(["HEAPSCAN_SAMPLE_PAUSE": "1"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        pid = process.processIdentifier
        // The truth is one line, written just before the program settles into pause().
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        guard let truth = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            process.terminate()
            throw SampleCoreError.failed("\(name) printed no truth")
        }
        self.truth = truth
        // Every thread blocked in pause(): nothing moves while heapscan and gcore look.
        let deadline = Date().addingTimeInterval(20)
        while threadStates().contains(where: { $0 != "S" }) && Date() < deadline { usleep(10_000) }
    }

    deinit {
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// The scheduler state letter of every thread (/proc/PID/task/TID/stat).
    func threadStates() -> [Character] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { tid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            return stat[stat.index(close, offsetBy: 2)...].first
        }
    }

    /// True when every thread is running or sleeping: not stopped (T), traced (t) or gone.
    var isRunning: Bool {
        let states = threadStates()
        return !states.isEmpty && states.allSatisfy { $0 == "S" || $0 == "R" }
    }
}
