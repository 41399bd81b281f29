import Analysis
import ArgumentParser
import ELFCore
import Regions
import ScanKernels

struct FindCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan find core.1234 0xc0ffee11 --context 64", "where a magic value is, with the bytes around it"),
        HelpExample("heapscan find core.1234 0x55d0c1a2b3c0 --format gdb", "who points at an address, as gdb's find prints"),
        HelpExample("heapscan find core.1234 --string password= --count", "how often a string occurs, per region"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Find every place a value or string occurs in memory (like gdb's find, on all cores).",
        discussion: """
        VALUE is 0x1234abcd, decimal, or negative decimal (two's complement). Without --width a \
        value takes gdb's rule for an integer literal: 4 bytes when it fits in 32 bits, else 8. \
        Integers match in the process's byte order at addresses aligned to their width (a struct \
        field); --unaligned matches at every byte offset, as gdb's find does. Several values and \
        strings are alternatives (gdb would search for them as one sequence). --string TEXT \
        matches the bytes of TEXT at any offset, without a terminating NUL; escapes \\0 \\n \\t \
        \\r \\\\ \\xHH are understood, so gdb's find "TEXT" is --string 'TEXT\\0'. A match must lie \
        entirely inside the selected memory; it may run from one region into the next when they \
        touch, as gdb reads across them.
        """)

    @Argument(help: ArgumentHelp("The core (see `heapscan info --help`); left out with --pid.", valueName: "core"))
    var core: String?

    @OptionGroup var input: InputOptions

    @Argument(parsing: .allUnrecognized, help: "Values to find: 0x1234abcd, 4660, -1.")
    var values: [String] = []

    @Option(name: .customLong("string"), help: ArgumentHelp("A byte string to find (repeatable).", valueName: "text"))
    var strings: [String] = []

    @Option(help: "Width of every VALUE in bytes: 1, 2, 4 or 8 (default: 4 if it fits in 32 bits, else 8).")
    var width: Int?

    @Flag(help: "Match values at every byte offset, not only at addresses aligned to their width.")
    var unaligned = false

    @OptionGroup var regionOptions: RegionOptions
    @OptionGroup var modules: ModuleOptions

    @Option(parsing: .unconditional, help: "List at most this many hits, lowest addresses first (counts stay exact).")
    var limit: Int?

    @Flag(help: "Only count: hits per value and per region.")
    var count = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Show this many bytes before and after each hit, as hex and ASCII.", valueName: "bytes"))
    var context: Int?

    @Option(help: "Output format: text, json, or gdb (the lines gdb's find prints).")
    var format: FindFormat = .text

    @Flag(help: "Do not walk the allocator to name the allocation holding each hit.")
    var noAllocations = false

    @OptionGroup var layout: TextWidthOptions

    func validate() throws {
        if let limit, limit < 0 { throw CLIError(path: nil, message: "--limit must be 0 or more") }
        if let context, context < 0 || context > 4096 { throw CLIError(path: nil, message: "--context must be between 0 and 4096") }
    }

    func run() throws {
        let (core, values) = input.shift(core: core, values)
        let pattern = try makePattern(values)
        // Argument errors first, before the core is opened.
        _ = try regionOptions.selection()
        let file = try input.open(core)
        let map = RegionMap(core: file)
        let regions = try regionOptions.select(in: map, core: file.path)
        let listHits = !count
        let result = Finder.find(pattern, in: regions, limit: listHits ? (limit ?? .max) : 0, progress: true)
        let owners = listHits && format != .gdb && !noAllocations && !result.hits.isEmpty
            ? AllocationContextResolver(core: file, regions: map, modules: try? modules.load(file)) : nil
        let allocation: (FindHit) -> AllocationContext? = { owners?.context(of: $0.address) }
        switch format {
        case .gdb:
            for hit in result.hits { print(hex(hit.address)) }
            // gdb counts every match; --limit and --count only shorten the list above.
            let found = result.total
            print(found == 0 ? "Pattern not found." : "\(found) pattern\(found == 1 ? "" : "s") found.")
        case .json:
            let report = FindReport(core: file, pattern: pattern, regions: regions, result: result, listHits: listHits,
                                     context: { contextLines(file, pattern, $0)?.joined(separator: "\n") },
                                     allocation: allocation,
                                     rawContext: { hit in
                                         context.flatMap { HexDump.window(memory: file.addressSpace, around: hit.address,
                                                                          length: pattern.needles[hit.needle].bytes.count, context: $0) }
                                     })
            try printJSON(report, core: report.core, warnings: file.warnings)
        case .text:
            let report = FindReport(core: file, pattern: pattern, regions: regions, result: result, listHits: listHits,
                                    context: { _ in nil }, allocation: allocation)
            printText(render(report, file: file, pattern: pattern, result: result, width: layout.columns), width: layout.columns)
        }
    }

    private func makePattern(_ values: [String]) throws -> FindPattern {
        do {
            // `--` only ends the options (so values may start with '-'); it is not a value.
            var needles = try values.filter { $0 != "--" }.map { try Needle.parse($0, width: width) }
            if unaligned { needles = needles.map(\.unaligned) }
            needles += try strings.map(Needle.string)
            // The same needle twice would count every match twice.
            var seen = Set<Needle>()
            return try FindPattern(needles.filter { seen.insert($0).inserted })
        } catch let error as Needle.ParseError {
            throw CLIError(path: nil, message: error.description)
        } catch let error as FindPattern.PatternError {
            throw CLIError(path: nil, message: error.description)
        }
    }

    /// `+8 in 0x55…2a0 (40 B, used, Session)`.
    private func describe(_ allocation: AllocationContext?) -> String {
        guard let allocation else { return "" }
        let details = [allocation.used ? "used" : "free"] + (allocation.type.map { [$0] } ?? [])
        return "+\(allocation.offset) in \(allocation.start) (\(exactBytes(allocation.usableSize)), \(details.joined(separator: ", ")))"
    }

    private func contextLines(_ file: CoreFile, _ pattern: FindPattern, _ hit: FindHit) -> [String]? {
        context.map { HexDump.lines(memory: file.addressSpace, around: hit.address,
                                    length: pattern.needles[hit.needle].bytes.count, context: $0) }
    }

    private func render(_ report: FindReport, file: CoreFile, pattern: FindPattern, result: FindResult, width: Int?) -> String {
        var out: [String] = []
        let described = report.needles.map { row in
            row.needle + (row.width.map { " (\($0) byte\($0 == 1 ? "" : "s")\(row.alignment == 1 && $0 > 1 ? ", unaligned" : ""))" } ?? "")
        }
        out.append("find \(described.joined(separator: ", ")) in \(regionOptions.regions)"
                   + (regionOptions.range.map { " \($0)" } ?? "")
                   + ": \(grouped(report.total)) hit\(report.total == 1 ? "" : "s"), \(humanBytes(report.scannedBytes)) scanned in \(grouped(report.regionsScanned)) region\(report.regionsScanned == 1 ? "" : "s")")
        if let hits = report.hits, !hits.isEmpty {
            out.append("")
            var table = TextTable([.left("address"), .left("value"), .name("region", minimum: 12), .right("segment offset"),
                                   .name("allocation")])
            for hit in hits { table.add([hit.address, hit.needle, hit.region, hex(hit.segmentOffset), describe(hit.allocation)]) }
            if context == nil {
                out.append(table.render(width: width))
            } else {
                for (row, hit) in zip(hits, result.hits) {
                    out.append("\(row.address)  \(row.needle)  \(row.region)  +\(hex(row.segmentOffset))  \(describe(row.allocation))")
                    out += contextLines(file, pattern, hit) ?? []
                }
            }
            if report.truncated { out.append("  … \(grouped(report.total - UInt64(hits.count))) more (raise --limit to list them)") }
        }
        if count || report.needles.count > 1 {
            out.append("")
            var table = TextTable([.left("value"), .name("region", minimum: 12), .left("start"), .right("count")])
            for row in report.counts { table.add([row.needle, row.region, row.regionStart, grouped(row.count)]) }
            for row in report.needles { table.add([row.needle, "total", "", grouped(row.total)]) }
            out.append(table.render(width: width))
        }
        return out.joined(separator: "\n")
    }
}
