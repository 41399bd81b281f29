import Foundation
import TestFixtures

/// Debian's chromium, headless: the DOM a page has once its scripts ran, what its console
/// said, and a screenshot. Each run gets its own profile directory and a resolver that
/// resolves nothing, so a page that tried to fetch could not reach a network either way.
enum HeadlessChromium {
    static var path: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Run {
        let stdout: String
        /// Console messages and load failures the browser logged.
        let console: [String]
    }

    /// Runs chromium on `file` with `arguments` (e.g. `--dump-dom`), for at most two minutes.
    static func run(_ file: String, _ arguments: [String]) throws -> Run {
        guard let chromium = path else { throw SampleCoreError.toolMissing("chromium") }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--user-data-dir=\(profile.path)", "--host-resolver-rules=MAP * ~NOTFOUND",
                             "--enable-logging=stderr", "--v=0"] + arguments + [URL(fileURLWithPath: file).absoluteString]
        let result = try HeapscanProcess.collect(process)
        guard result.status == 0 else {
            throw SampleCoreError.failed("chromium exited \(result.status): \(result.stderr.suffix(2000))")
        }
        let console = result.stderr.split(separator: "\n").map(String.init).filter {
            $0.contains(":CONSOLE") || $0.contains("Refused to") || $0.contains("net::ERR_")
        }
        return Run(stdout: result.stdout, console: console)
    }
}
