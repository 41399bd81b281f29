import Foundation

/// One row of the benchmark: a name, how many bytes one run reads, and the run itself, which
/// returns a short note (hit counts, checks) printed beside the numbers. Add a row by appending
/// a case to the list in main.swift.
struct BenchCase {
    let name: String
    let bytes: UInt64
    let run: () throws -> String
}

struct BenchRow {
    let name: String
    let bytes: UInt64
    let seconds: Double
    let note: String

    var gigabytesPerSecond: Double { Double(bytes) / seconds / 1e9 }
}

enum BenchClock {
    /// Best of `repeats` runs: the least disturbed by other work on the machine.
    static func measure(_ benchCase: BenchCase, repeats: Int) throws -> BenchRow {
        var best = Double.infinity
        var note = ""
        for _ in 0..<max(1, repeats) {
            let start = ContinuousClock.now
            note = try benchCase.run()
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return BenchRow(name: benchCase.name, bytes: benchCase.bytes, seconds: best, note: note)
    }
}

/// Peak resident memory that is not the mapped core: the high-water mark minus the file pages
/// resident at the end (all of the mapped core, once it has been read).
enum MemoryUse {
    static func resetPeak() {
        // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static func peakBeyondMapping() -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> UInt64? {
            for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
                return line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) }.map { $0 * 1024 }
            }
            return nil
        }
        guard let peak = field("VmHWM"), let file = field("RssFile") else { return nil }
        return peak > file ? peak - file : 0
    }
}
