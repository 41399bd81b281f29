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
    /// The read loop's best time, measured alternately with this case (nil for the read loop).
    var baselineSeconds: Double? = nil
    /// CPU time (all threads) of the run with the best wall time, and of the read loop's: on a
    /// machine shared with other work, wall time waits for a core, CPU time does not.
    var cpuSeconds: Double = 0
    var baselineCPUSeconds: Double? = nil

    var gigabytesPerSecond: Double { Double(bytes) / seconds / 1e9 }
}

enum BenchClock {
    /// Best of `repeats` runs: the least disturbed by other work on the machine. With a
    /// `baseline`, each run of the case follows a run of the baseline, so that both see the same
    /// machine (other builds come and go) and their ratio is fair.
    static func measure(_ benchCase: BenchCase, repeats: Int, baseline: BenchCase? = nil) throws -> BenchRow {
        var best = Double.infinity, bestCPU = 0.0
        var baselineBest = Double.infinity, baselineCPU = 0.0
        var note = ""
        for _ in 0..<max(1, repeats) {
            if let baseline {
                let run = try time(baseline)
                if run.seconds < baselineBest { (baselineBest, baselineCPU) = (run.seconds, run.cpu) }
            }
            let run = try time(benchCase)
            if run.seconds < best { (best, bestCPU) = (run.seconds, run.cpu) }
            note = run.note
        }
        return BenchRow(name: benchCase.name, bytes: benchCase.bytes, seconds: best, note: note,
                        baselineSeconds: baseline == nil ? nil : baselineBest, cpuSeconds: bestCPU,
                        baselineCPUSeconds: baseline == nil ? nil : baselineCPU)
    }

    private static func time(_ benchCase: BenchCase) throws -> (seconds: Double, cpu: Double, note: String) {
        let cpuStart = CPUTime.now()
        let start = ContinuousClock.now
        let note = try benchCase.run()
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, CPUTime.now() - cpuStart, note)
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
