import Allocators
import Analysis
import ELFCore
import Foundation
import Symbols
import Testing
import TestFixtures

/// One core of the service sample: allocator, debuginfo and who wrote the core.
struct ServiceVariant: Sendable, CustomTestStringConvertible {
    let sample: String
    let strip: String?
    let kernel: Bool
    /// Whether the default `leaks` ranking puts the planted leak's group first today.
    let plantedLeakRankedFirstToday: Bool
    /// Leaked objects (per type) that the verdicts call anchored, as measured when this was last
    /// set, rounded up. The verdicts may not get worse than this; lower it as they improve
    /// (issue 10 aims at 1 % of the leaked objects with debuginfo, 10 % stripped).
    let falselyAnchoredCeiling: [String: Int]

    var testDescription: String {
        let allocator = sample.hasSuffix("-jemalloc") ? "jemalloc" : "glibc"
        let debug = strip.map { "strip --strip-\($0)" } ?? "-g"
        return "\(allocator) \(kernel ? "kernel core" : "gcore"), \(debug)"
    }

    static let all: [ServiceVariant] = [glibcGcore, glibcStripDebug, glibcStripAll, glibcKernel,
                                        jemallocGcore, jemallocStripAll, jemallocKernel]

    static let glibcGcore = ServiceVariant(sample: "service", strip: nil, kernel: false,
                                           plantedLeakRankedFirstToday: true, falselyAnchoredCeiling: glibcTypedCeiling)
    static let glibcStripDebug = ServiceVariant(sample: "service", strip: "debug", kernel: false,
                                                plantedLeakRankedFirstToday: true, falselyAnchoredCeiling: glibcCeiling)
    static let glibcStripAll = ServiceVariant(sample: "service", strip: "all", kernel: false,
                                              plantedLeakRankedFirstToday: true, falselyAnchoredCeiling: glibcCeiling)
    static let glibcKernel = ServiceVariant(sample: "service", strip: nil, kernel: true,
                                            plantedLeakRankedFirstToday: true, falselyAnchoredCeiling: glibcTypedCeiling)
    static let jemallocGcore = ServiceVariant(sample: "service-jemalloc", strip: nil, kernel: false,
                                              plantedLeakRankedFirstToday: true, falselyAnchoredCeiling: jemallocTypedCeiling)
    static let jemallocStripAll = ServiceVariant(sample: "service-jemalloc", strip: "all", kernel: false,
                                                 plantedLeakRankedFirstToday: true, falselyAnchoredCeiling: jemallocCeiling)
    static let jemallocKernel = ServiceVariant(sample: "service-jemalloc", strip: nil, kernel: true,
                                               plantedLeakRankedFirstToday: true, falselyAnchoredCeiling: jemallocTypedCeiling)

    // The most seen (typed and container-aware marking with deque cursors, 2026-12-03), plus a
    // margin of about 10 % and 1, rounded up to a multiple of 5: addresses, and so stale words,
    // vary a little between runs. With DWARF, objects with a vtable are scanned through their layout ("Typed"); stripped
    // binaries get the container rules only. Conservative marking had 188 of 615 (glibc) and
    // about 200 (jemalloc) here; before deques were recognised, 35 (glibc, -g). Lower these as
    // the verdicts improve; never raise them.
    static let glibcTypedCeiling: [String: Int] = [
        "TimerCallback": 5, "RetryCallback": 5, "Session": 0, "Channel": 5, "Subscriber": 5,
        "conn_stats": 5, "Connection": 5, "Job": 5, "IoBuffer": 5, "Blob": 5,
    ]
    // Stripped, string members and character arrays are learned from the heap (`ObservedLayouts`):
    // 112 of 615 before, 83 since.
    static let glibcCeiling: [String: Int] = [
        "TimerCallback": 30, "RetryCallback": 35, "Session": 0, "Channel": 5, "Subscriber": 5,
        "conn_stats": 10, "Connection": 10, "Job": 5, "IoBuffer": 15, "Blob": 5,
    ]
    static let jemallocTypedCeiling: [String: Int] = [
        "TimerCallback": 5, "RetryCallback": 5, "Session": 0, "Channel": 5, "Subscriber": 5,
        "conn_stats": 5, "Connection": 5, "Job": 5, "IoBuffer": 5, "Blob": 5,
    ]
    static let jemallocCeiling: [String: Int] = [
        "TimerCallback": 5, "RetryCallback": 5, "Session": 0, "Channel": 15, "Subscriber": 15,
        "conn_stats": 5, "Connection": 5, "Job": 5, "IoBuffer": 5, "Blob": 5,
    ]
}

/// How right the leak verdicts are on the service sample, object by object, against the truth it
/// prints about itself: no anchored object may be called leaked, and no more leaked objects may be
/// called anchored than the recorded ceiling.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct ServiceVerdictTests {
    /// The verdicts on one type's objects.
    struct TypeScore {
        let type: ServiceTruth.TrackedType
        var falselyAnchored = 0
        var falselyLeaked = 0
        /// Truth addresses that are not inside a used allocation of the table.
        var notInUsedAllocation: [UInt64] = []
    }

    /// The core and truth of a variant; cancels the test when this machine cannot write kernel cores.
    func sample(_ variant: ServiceVariant) throws -> SampleCore {
        do {
            return try SampleCores.core(variant.sample, kernel: variant.kernel, strip: variant.strip)
        } catch let error as SampleCoreError where variant.kernel && String(describing: error).contains("exited 3") {
            // make-core exits 3 when the kernel's core_pattern sends cores elsewhere.
            try Test.cancel("kernel cores cannot be made on this machine")
        }
    }

    func analysis(_ sample: SampleCore) throws -> LeakAnalysis {
        let core = try CoreFile(path: sample.path)
        return LeakAnalysis(core: core, modules: try ModuleSet(core: core))
    }

    func score(_ truth: ServiceTruth, _ analysis: LeakAnalysis) throws -> [TypeScore] {
        let table = try #require(analysis.table, "\(analysis.noHeapReason ?? "no table")")
        let reachability = try #require(analysis.reachability)
        return truth.types.map { type in
            var score = TypeScore(type: type)
            for (addresses, anchoredByTruth) in [(type.anchored, true), (type.leaked, false)] {
                for address in addresses {
                    guard let index = table.index(containing: address), table.allocations[index].isUsed,
                          let liveness = reachability.liveness(ofAllocationAt: index) else {
                        score.notInUsedAllocation.append(address)
                        continue
                    }
                    if anchoredByTruth && liveness.isLeaked { score.falselyLeaked += 1 }
                    if !anchoredByTruth && !liveness.isLeaked { score.falselyAnchored += 1 }
                }
            }
            return score
        }
    }

    func render(_ scores: [TypeScore], _ variant: ServiceVariant, core: String) -> String {
        let header = ["type", "size", "anchored", "leaked", "falsely anchored", "falsely leaked", "ceiling"]
        var rows = [header]
        for score in scores {
            let leaked = score.type.leaked.count
            let share = leaked == 0 ? "" : String(format: " (%.1f %%)", 100 * Double(score.falselyAnchored) / Double(leaked))
            rows.append([score.type.name, String(score.type.size), String(score.type.anchored.count), String(leaked),
                         "\(score.falselyAnchored)\(share)", String(score.falselyLeaked),
                         variant.falselyAnchoredCeiling[score.type.name].map(String.init) ?? "-"])
        }
        let leaked = scores.reduce(0) { $0 + $1.type.leaked.count }
        let falselyAnchored = scores.reduce(0) { $0 + $1.falselyAnchored }
        rows.append(["all", "", String(scores.reduce(0) { $0 + $1.type.anchored.count }), String(leaked),
                     "\(falselyAnchored)" + (leaked == 0 ? "" : String(format: " (%.1f %%)", 100 * Double(falselyAnchored) / Double(leaked))),
                     String(scores.reduce(0) { $0 + $1.falselyLeaked }), ""])
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let lines = rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return (["service verdicts, \(variant.testDescription) (\((core as NSString).lastPathComponent))"] + lines)
            .joined(separator: "\n")
    }

    @Test(arguments: ServiceVariant.all)
    func verdictsAgainstTruth(_ variant: ServiceVariant) throws {
        let sample = try sample(variant)
        let truth = try ServiceTruth(sample)
        let scores = try score(truth, try analysis(sample))
        print(render(scores, variant, core: sample.path))
        for score in scores {
            let name = score.type.name
            #expect(score.notInUsedAllocation.isEmpty,
                    "\(name): \(score.notInUsedAllocation.count) truth addresses outside used allocations, e.g. \(score.notInUsedAllocation.prefix(3).map { "0x" + String($0, radix: 16) })")
            #expect(score.falselyLeaked == 0, "\(name): \(score.falselyLeaked) anchored objects called leaked")
            let ceiling = try #require(variant.falselyAnchoredCeiling[name], "no falselyAnchoredCeiling for \(name)")
            #expect(score.falselyAnchored <= ceiling, "\(name): \(score.falselyAnchored) leaked objects called anchored, ceiling \(ceiling)")
        }
    }

    /// The group `heapscan leaks` ranks first (same classification, default options) must be the
    /// planted leak's.
    @Test(arguments: ServiceVariant.all)
    func plantedLeakRankedFirst(_ variant: ServiceVariant) throws {
        let sample = try sample(variant)
        let truth = try ServiceTruth(sample)
        let report = try #require(try analysis(sample).classify())
        let first = report.suspects.first?.name
        let check = {
            #expect(first == truth.plantedLeak.allocationType,
                    "first group is \(first ?? "none"), the planted leak is \(truth.plantedLeak.allocationType)")
        }
        if variant.plantedLeakRankedFirstToday {
            check()
        } else {
            withKnownIssue("the default ranking is by total bytes: a healthy type with more bytes comes first (issue 10)") {
                check()
            }
        }
    }
}
