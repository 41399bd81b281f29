import Foundation
import ELFCore
import Regions
import ScanKernels

// The scan benchmark: `heapscan-bench [--size BYTES] [--repeat N] [--gdb-hits N] [--no-gdb]
// [--keep PATH]`. Generates a heap-like core, maps it through ELFCore, and reports each kernel
// against a plain memory-read loop over the same bytes in the same run, then gdb's find.

struct BenchOptions {
    var size: UInt64 = 1 << 30
    var repeats = 3
    var gdbHits = 1_000_000
    var gdb = true
    var corePath: String?

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--size": size = try Self.parseSize(rest.popFirst())
            case "--repeat": repeats = Int(rest.popFirst() ?? "") ?? repeats
            case "--gdb-hits": gdbHits = Int(rest.popFirst() ?? "") ?? gdbHits
            case "--no-gdb": gdb = false
            case "--keep": corePath = rest.popFirst()
            default: throw BenchError("unknown argument \(argument) (use --size 1G, --repeat N, --gdb-hits N, --no-gdb, --keep PATH)")
            }
        }
    }

    /// `1073741824`, `512M`, `1G`.
    static func parseSize(_ text: String?) throws -> UInt64 {
        guard var text = text?.uppercased(), !text.isEmpty else { throw BenchError("--size needs a value") }
        var scale: UInt64 = 1
        if text.hasSuffix("G") { scale = 1 << 30; text.removeLast() } else if text.hasSuffix("M") { scale = 1 << 20; text.removeLast() }
        guard let value = UInt64(text), value > 0 else { throw BenchError("bad --size \(text)") }
        return (value * scale + 255) & ~255
    }
}

func runScanBench(_ arguments: [String]) throws {
    let options = try BenchOptions(arguments)
    let threads = ParallelScan.defaultThreadCount
    let synthetic = SyntheticHeapCore(heapSize: options.size)
    let path = options.corePath ?? FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-bench-\(getpid()).core").path
    let writeStart = ContinuousClock.now
    try synthetic.write(to: path)
    defer { if options.corePath == nil { try? FileManager.default.removeItem(atPath: path) } }
    print("synthetic core \(path): \(options.size >> 20) MiB heap, written in \(format(GdbComparison.seconds(ContinuousClock.now - writeStart))) s; \(threads) threads")

    let core = try CoreFile(path: path)
    let map = RegionMap(core: core)
    let heap = map.select(.heapOnly)
    let plan = ScanPlan(regions: heap)
    let classifier = WordClassifier(map: map)
    let bytes = plan.totalBytes
    // Touch every page once so that every case runs on a warm mapping.
    _ = ReadBaseline.fold(plan)

    let magic32 = try FindPattern([try Needle.value(SyntheticHeapCore.magic32, width: 4)])
    let magic64 = try FindPattern([try Needle.value(SyntheticHeapCore.magic64, width: 8)])
    let magic32Unaligned = try FindPattern([try Needle.value(SyntheticHeapCore.magic32, width: 4).unaligned])
    var peakBeyondMapping: UInt64?
    let cases: [BenchCase] = [
        BenchCase(name: "memory read loop", bytes: bytes) { "fold \(hex(ReadBaseline.fold(plan)))" },
        BenchCase(name: "find 4-byte aligned", bytes: bytes) {
            try expectCount(Finder.find(magic32, plan: plan, limit: 0).total, synthetic.magic32Count)
        },
        BenchCase(name: "find 8-byte aligned", bytes: bytes) {
            try expectCount(Finder.find(magic64, plan: plan, limit: 0).total, synthetic.magic64Count)
        },
        BenchCase(name: "find 4-byte unaligned", bytes: bytes) {
            try expectCount(Finder.find(magic32Unaligned, plan: plan, limit: 0).total, synthetic.magic32Count)
        },
        BenchCase(name: "words top-50 (8-byte)", bytes: bytes) {
            MemoryUse.resetPeak()
            let census = try WordHistogram.census(plan: plan, pointerRanges: classifier.pointerRanges,
                                                  options: WordCensusOptions(width: 8, top: 50))
            peakBeyondMapping = max(peakBeyondMapping ?? 0, MemoryUse.peakBeyondMapping() ?? 0)
            let magic = census.top.first { $0.value == SyntheticHeapCore.magic64 }
            guard magic?.count == synthetic.magic64Count else { throw BenchError("words: magic count \(String(describing: magic))") }
            return "\(census.passes) passes, proven exact: \(census.provenExact)"
        },
    ]
    var rows: [BenchRow] = []
    rows.append(try BenchClock.measure(cases[0], repeats: options.repeats))
    for benchCase in cases.dropFirst() {
        rows.append(try BenchClock.measure(benchCase, repeats: options.repeats, baseline: cases[0]))
    }
    printTable(rows, baseline: rows[0].seconds)
    if let peak = peakBeyondMapping { print("words: peak RSS beyond the mapped core \(peak >> 20) MiB") }

    // Realistic shapes the typical heap above lacks: dense hits and many distinct values.
    for shape in [SyntheticHeapCore.Shape.denseMagic, .highCardinality] {
        print("")
        printTable(try shapeRows(shape, options: options), baseline: nil)
    }

    if options.gdb && GdbComparison.gdbInstalled {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (gdb, ours) = try GdbComparison(repositoryRoot: root, hits: options.gdbHits).run()
        print("")
        print("gdb comparison on Samples magic \(options.gdbHits) 0 0 0 (heap \(gdb.bytes >> 20) MiB): \(gdb.note)")
        printTable([gdb, ours], baseline: nil)
        print("heapscan is \(format(gdb.seconds / ours.seconds))x faster than gdb find")
    }
}

/// The read loop and the one case a heap of `shape` is about, on a core of that shape.
func shapeRows(_ shape: SyntheticHeapCore.Shape, options: BenchOptions) throws -> [BenchRow] {
    var synthetic = SyntheticHeapCore(heapSize: options.size)
    synthetic.shape = shape
    let path = options.corePath.map { "\($0).\(shape)" }
        ?? FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-bench-shape-\(getpid()).core").path
    try synthetic.write(to: path)
    defer { if options.corePath == nil { try? FileManager.default.removeItem(atPath: path) } }
    let core = try CoreFile(path: path)
    let map = RegionMap(core: core)
    let plan = ScanPlan(regions: map.select(.heapOnly))
    let bytes = plan.totalBytes
    _ = ReadBaseline.fold(plan)
    let read = BenchCase(name: "memory read loop", bytes: bytes) { "fold \(hex(ReadBaseline.fold(plan)))" }
    let measured: BenchCase
    switch shape {
    case .denseMagic:
        let magic32 = try FindPattern([try Needle.value(SyntheticHeapCore.magic32, width: 4)])
        measured = BenchCase(name: "find --count, a hit per 400 bytes", bytes: bytes) {
            try expectCount(Finder.find(magic32, plan: plan, limit: 0).total, synthetic.magic32Count)
        }
    case .highCardinality, .typical:
        let pointerRanges = WordClassifier(map: map).pointerRanges
        measured = BenchCase(name: "words top-50, ~50% distinct", bytes: bytes) {
            let census = try WordHistogram.census(plan: plan, pointerRanges: pointerRanges,
                                                  options: WordCensusOptions(width: 8, top: 50))
            return "\(census.passes) passes, proven exact: \(census.provenExact), top count \(census.top.first?.count ?? 0)"
        }
    }
    return [try BenchClock.measure(read, repeats: options.repeats),
            try BenchClock.measure(measured, repeats: options.repeats, baseline: read)]
}

func expectCount(_ found: UInt64, _ planted: UInt64) throws -> String {
    guard found == planted else { throw BenchError("found \(found), planted \(planted)") }
    return "\(found) hits"
}

func printTable(_ rows: [BenchRow], baseline: Double?) {
    // "vs read": against the read loop timed alternately with the row (see BenchClock.measure).
    // "CPU vs read": the same ratio in CPU time of all threads, which other work on the machine
    // does not inflate.
    let header = ["case", "MiB", "seconds", "GB/s", "vs read", "CPU s", "CPU vs read", "note"]
    var lines = [header]
    for row in rows {
        lines.append([row.name, String(row.bytes >> 20), format(row.seconds, digits: 4), format(row.gigabytesPerSecond),
                      (row.baselineSeconds ?? baseline).map { format($0 / row.seconds) + "x" } ?? "-",
                      format(row.cpuSeconds, digits: 3),
                      row.baselineCPUSeconds.map { format($0 / max(row.cpuSeconds, 1e-6)) + "x" } ?? "-", row.note])
    }
    let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
    for line in lines {
        print(line.enumerated().map { column, cell in
            column == 0 || column == line.count - 1 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[column] - cell.count) + cell
        }.joined(separator: "  "))
    }
}

func format(_ value: Double, digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
