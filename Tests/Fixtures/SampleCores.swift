import Foundation

/// Real cores of the programs in Samples/, made by `Samples/make-core` (compile, run until the
/// program stops itself, gcore, kill). Each (sample, arguments) pair is made once per test
/// process; the program's own ground truth comes with it.
public struct SampleCore: @unchecked Sendable {
    public let path: String
    public let truth: [String: Any]
    public let truthPath: String

    /// A field of the truth object, e.g. `truth["pid"]`.
    public func int(_ key: String) -> Int? { (truth[key] as? NSNumber)?.intValue }
}

public enum SampleCoreError: Error, CustomStringConvertible {
    case toolMissing(String)
    case failed(String)

    public var description: String {
        switch self {
        case .toolMissing(let tool): return "\(tool) is not installed (make test installs it)"
        case .failed(let detail): return detail
        }
    }
}

public enum SampleCores {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: SampleCore] = [:]

    /// The repository root, found from this file's location.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static var coreDirectory: URL {
        if let custom = ProcessInfo.processInfo.environment["HEAPSCAN_CORE_DIR"] {
            return URL(fileURLWithPath: custom)
        }
        return repositoryRoot.appendingPathComponent(".build-cores")
    }

    /// True when the tools to make real cores exist (gcc, g++, gdb).
    public static var canMakeCores: Bool {
        ["/usr/bin/gcc", "/usr/bin/g++", "/usr/bin/gdb"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Makes (or reuses, within this test process) the core of sample `name` run with `arguments`;
    /// `strip` ("debug" or "all") runs a copy of the executable stripped that way.
    public static func core(_ name: String, _ arguments: [String] = [], kernel: Bool = false,
                            strip: String? = nil) throws -> SampleCore {
        let key = ([name, kernel ? "kernel" : "gcore", "strip=\(strip ?? "none")"] + arguments).joined(separator: " ")
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[key] { return cached }
        let script = repositoryRoot.appendingPathComponent("Samples/make-core").path
        var command = [script]
        if kernel { command.append("--kernel") }
        if let strip { command += ["--strip", strip] }
        command += ["--out", coreDirectory.path, name] + arguments
        let output = try run(command)
        guard let path = output.split(separator: "\n").last.map(String.init), FileManager.default.fileExists(atPath: path) else {
            throw SampleCoreError.failed("make-core \(name) printed no core path:\n\(output)")
        }
        let truthPath = path.hasSuffix(".core") ? String(path.dropLast(5)) + ".truth.json" : path + ".truth.json"
        let data = try Data(contentsOf: URL(fileURLWithPath: truthPath))
        guard let truth = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SampleCoreError.failed("\(truthPath) is not a JSON object")
        }
        let core = SampleCore(path: path, truth: truth, truthPath: truthPath)
        cache[key] = core
        return core
    }

    /// Runs a command, returning stdout; throws with stderr when it fails.
    @discardableResult
    public static func run(_ command: [String], environment: [String: String]? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let outData = stdout.fileHandleForReading.readDataToEndOfFile()
        let errData = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let out = String(decoding: outData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw SampleCoreError.failed("\(command.joined(separator: " ")) exited \(process.terminationStatus):\n\(String(decoding: errData, as: UTF8.self))\(out)")
        }
        return out
    }
}

/// Parses "0x…" (or a JSON number) from a truth file.
public func truthAddress(_ value: Any?) -> UInt64? {
    if let text = value as? String {
        return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }
    return (value as? NSNumber)?.uint64Value
}
