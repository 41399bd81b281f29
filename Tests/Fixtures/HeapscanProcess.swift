import Foundation

/// The built `heapscan` executable, run as a user would run it.
public enum HeapscanProcess {
    public struct Result: Sendable {
        public let status: Int32
        /// True when the process died by a signal (a crash or trap), which is never acceptable.
        public let crashed: Bool
        public let stdout: String
        public let stderr: String
    }

    /// The executable next to the test bundle (SwiftPM builds products into the same folder).
    public static var executable: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
        var directory = bundle.deletingLastPathComponent()
        while !directory.path.isEmpty && directory.path != "/" {
            let candidate = directory.appendingPathComponent("heapscan")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return SampleCores.repositoryRoot.appendingPathComponent(".build/debug/heapscan")
    }

    /// Runs heapscan with `environment` added to the test's own, less COLUMNS: text output is
    /// fitted to a width only when a test sets one.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment
        inherited["COLUMNS"] = nil
        process.environment = inherited.merging(environment) { $1 }
        return try collect(process)
    }

    /// Runs a prepared process (its own executable, stdin or environment) to its end,
    /// collecting stdout and stderr.
    public static func collect(_ process: Process) throws -> Result {
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Read both pipes concurrently so a large output cannot block the child.
        var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = stderr.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      crashed: process.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs with `--format json` appended and decodes the output as a JSON object.
    public static func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try run(arguments + ["--format", "json"])
        guard result.status == 0, !result.crashed else {
            throw SampleCoreError.failed("heapscan \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw SampleCoreError.failed("heapscan output is not a JSON object")
        }
        return object
    }
}
