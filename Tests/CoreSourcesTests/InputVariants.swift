import Foundation
import TestFixtures

/// The ways one core reaches heapscan: compressed copies made with the real tools, stdin and
/// FIFOs, and the JSON of a command with the input's name taken out so the answers compare.
enum InputVariants {
    typealias Outcome = HeapscanProcess.Result

    /// Compressed copies of `core` in a fresh directory, by the tools' usual suffix.
    static func compress(_ core: String, name: String) throws -> [String: String] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("heapscan-inputs-\(getpid())-\(name)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let base = directory + "/" + name + ".core"
        let commands = [
            "zst": "zstd -q -f -o '\(base).zst' '\(core)'",
            "xz": "xz -c -T1 '\(core)' > '\(base).xz'",
            "lz4": "lz4 -q -f '\(core)' '\(base).lz4'",
            "gz": "gzip -c '\(core)' > '\(base).gz'",
        ]
        var paths: [String: String] = [:]
        for (suffix, command) in commands {
            try SampleCores.run(["sh", "-c", command])
            paths[suffix] = base + "." + suffix
        }
        return paths
    }

    /// Runs heapscan with `stdinPath`'s bytes (or a pipe from `shell`) on its stdin.
    static func run(_ arguments: [String], stdin stdinPath: String) throws -> Outcome {
        let process = Process()
        process.executableURL = HeapscanProcess.executable
        process.arguments = arguments
        guard let input = FileHandle(forReadingAtPath: stdinPath) else {
            throw SampleCoreError.failed("cannot open \(stdinPath)")
        }
        process.standardInput = input
        return try HeapscanProcess.collect(process)
    }

    /// Runs a shell command line (for FIFOs and process substitution) with `$HEAPSCAN` set.
    static func shell(_ script: String) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(["HEAPSCAN": HeapscanProcess.executable.path]) { $1 }
        return try HeapscanProcess.collect(process)
    }

    /// The JSON object of a successful run with the input's name (`core`, and inside the
    /// commands `leaks` suggests) taken out, as canonical text.
    static func answer(_ result: Outcome, _ what: String, input: String) throws -> String {
        guard result.status == 0, !result.crashed else {
            throw SampleCoreError.failed("\(what) failed (\(result.status)): \(result.stderr)")
        }
        var text = result.stdout
        for spelling in [input, input.replacingOccurrences(of: "/", with: "\\/")] {
            text = text.replacingOccurrences(of: " " + spelling + " ", with: " CORE ")
        }
        guard var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw SampleCoreError.failed("\(what): output is not a JSON object")
        }
        object["core"] = nil
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
