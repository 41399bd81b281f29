import Analysis
import ELFCore
import Foundation
import Regions
import ScanKernels
import Symbols

/// `types`, `leaks` and `diff` as the commands compute them (modules, allocator walk, census or
/// marking and classification; no rendering), on the core named by HEAPSCAN_BENCH_LEAK_CORE,
/// each against one read of every byte of that core in the same run. `diff` compares
/// HEAPSCAN_BENCH_LEAK_CORE_OLD (else the same core again) with it. Make a big core with
/// `Samples/make-core leaker 40000` (15.6 M allocations, a 941 MiB core).
enum CommandBench {
    static func run(repeats: Int) {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment["HEAPSCAN_BENCH_LEAK_CORE"] else {
            print("types, leaks, diff: skipped (set HEAPSCAN_BENCH_LEAK_CORE to a glibc core, e.g. from Samples/make-core leaker 40000)")
            return
        }
        let oldPath = environment["HEAPSCAN_BENCH_LEAK_CORE_OLD"] ?? path
        do {
            let core = try CoreFile(path: path)
            let map = RegionMap(core: core)
            let plan = ScanPlan(regions: map.regions)
            _ = ReadBaseline.fold(plan)
            let read = BenchCase(name: "read the core once", bytes: plan.totalBytes) { "fold \(hex(ReadBaseline.fold(plan)))" }
            let types = BenchCase(name: "types", bytes: plan.totalBytes) {
                let core = try CoreFile(path: path)
                let modules = try ModuleSet(core: core, options: SymbolOptions())
                let identifier = TypeIdentifier(modules: modules, memory: ProcessMemory(core: core, modules: modules))
                let counted = TypeCounting.census(core: core, regions: RegionMap(core: core), selection: .heapOnly,
                                                  identifier: identifier)
                return "\(counted.census.entries.count) classes, counted by \(counted.method)"
            }
            let leaks = BenchCase(name: "leaks", bytes: plan.totalBytes) {
                let report = try classified(path)
                return "\(report.suspects.count) suspects"
            }
            let diff = BenchCase(name: "diff (old core, then this one)", bytes: plan.totalBytes) {
                let growth = GrowthDiff(old: try classified(oldPath), new: try classified(path))
                return "\(growth.rows.count) rows"
            }
            print("commands on \(path) (\(plan.totalBytes >> 20) MiB present), best of \(repeats):")
            let rows = try [types, leaks, diff].map { try BenchClock.measure($0, repeats: repeats, baseline: read) }
            printTable(rows, baseline: nil)
            let (typesRow, leaksRow, diffRow) = (rows[0], rows[1], rows[2])
            print("types / read: \(format(typesRow.seconds / (typesRow.baselineSeconds ?? 1)))x wall, "
                  + "\(format(typesRow.cpuSeconds / (typesRow.baselineCPUSeconds ?? 1)))x CPU (target <= 5); "
                  + "diff / leaks: \(format(diffRow.seconds / leaksRow.seconds))x wall, "
                  + "\(format(diffRow.cpuSeconds / leaksRow.cpuSeconds))x CPU (target <= 2)")
        } catch {
            print("types, leaks, diff: \(path): \(error)")
        }
    }

    /// What `leaks` and each core of `diff` compute: every group, none left out.
    private static func classified(_ path: String) throws -> Classifier.Report {
        let core = try CoreFile(path: path)
        let analysis = LeakAnalysis(core: core, modules: try ModuleSet(core: core, options: SymbolOptions()))
        var options = Classifier.Options()
        options.minimumCount = 1
        guard let report = analysis.classify(options: options) else { throw BenchError("\(path): no malloc heap found") }
        return report
    }
}

/// User plus system CPU time of the process, in seconds.
enum CPUTime {
    static func now() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
