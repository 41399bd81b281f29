import Allocators
import Analysis
import ArgumentParser
import ELFCore
import Regions
import ScanKernels

struct WordsCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan words core.1234", "the most frequent word values and what they look like"),
        HelpExample("heapscan words core.1234 --by-allocation", "magics: values at one offset in many allocations"),
        HelpExample("heapscan words core.1234 --skip none --width 4 --top 50", "every 4-byte value, zeros included"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "words",
        abstract: "The most frequent aligned word values in memory, with exact counts.",
        discussion: """
        Counts every aligned 4- or 8-byte word of the selected regions and lists the most \
        frequent values with their exact counts, their share of all scanned words, and what \
        each value looks like: zero, small integer (below 65536, or -65536..-1), a pointer into \
        a region of the core (which one, at which offset), ASCII text, or none of those (a \
        possible magic number). --skip removes classes before ranking, so they cannot crowd out \
        the rest; zero and small are skipped unless you say otherwise (--skip none keeps all). \
        The list is computed with a bounded-memory heavy-hitter pass and an exact count of its \
        candidates; it says whether the top N is proven exact. When it is not, --exact counts \
        every value exactly, in as many passes as bounded memory needs.

        --by-allocation looks inside the allocator's used allocations instead: the values that \
        recur at one offset in many allocations of one size ("1100 allocations of 64-byte blocks \
        have 0xa11c0de5 at +0"), which is how a C struct's magic field shows up. Zero, small \
        integers, pointers and text are never magics there. Counts are exact; candidates are \
        sampled per size (up to 1024 allocations spread over it).
        """)

    @Argument(help: ArgumentHelp("The core (see `heapscan info --help`); left out with --pid.", valueName: "core"))
    var core: String?

    @OptionGroup var input: InputOptions

    @Option(help: "Word width in bytes: 4 or 8.")
    var width: Int = 8

    @Option(parsing: .unconditional, help: "How many values to list.")
    var top: Int = 50

    @Option(help: ArgumentHelp("Classes to leave out: zero, small, pointers, text (comma separated), or none.", valueName: "classes"))
    var skip: String = "zero,small"

    @OptionGroup var regionOptions: RegionOptions

    @Flag(help: "When the top N is not proven exact, count every value exactly (slower).")
    var exact = false

    @Flag(help: "Rank (size, offset, value) triples found in used allocations instead of raw words.")
    var byAllocation = false

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @OptionGroup var layout: TextWidthOptions

    func validate() throws {
        guard width == 4 || width == 8 else { throw CLIError(path: nil, message: "--width must be 4 or 8") }
        guard top >= 1 else { throw CLIError(path: nil, message: "--top must be at least 1") }
    }

    func run() throws {
        let skipped: WordSkip
        do {
            skipped = try WordSkip.parse(skip)
        } catch let error as WordSkip.ParseError {
            throw CLIError(path: nil, message: error.description)
        }
        _ = try regionOptions.selection()
        let file = try input.open(core)
        let map = RegionMap(core: file)
        if byAllocation {
            try runByAllocation(file, map)
            return
        }
        let regions = try regionOptions.select(in: map, core: file.path)
        let classifier = WordClassifier(map: map)
        let options = WordCensusOptions(width: width, top: top, skip: skipped, exact: exact, progress: true)
        let census = try WordHistogram.census(of: regions, classifier: classifier, options: options)
        let report = WordsReport(core: file.path, census: census, skip: skipped, classifier: classifier)
        switch format {
        case .json: try printJSON(report, core: report.core, warnings: file.warnings)
        case .text: printText(render(report, width: layout.columns), width: layout.columns)
        }
    }

    private func runByAllocation(_ file: CoreFile, _ map: RegionMap) throws {
        let table = ProcessAllocator.allocationTable(core: file, regions: map)
        guard !table.allocations.isEmpty else {
            throw CLIError(path: file.path, message: "no allocator heap found: " + (table.warnings.first ?? "glibc arenas not recognised"))
        }
        let census = MagicCensus(table: table, memory: file.addressSpace, corePath: file.path, top: top)
        switch format {
        case .json: try printJSON(census, core: census.core, warnings: file.warnings + table.warnings)
        case .text:
            var out = ["\(grouped(census.usedAllocations)) used allocations (\(census.allocator)); values at a fixed offset in many allocations of one size:", ""]
            var rows = TextTable([">count", ">of size", ">block", ">offset", "value", ">width"])
            for row in census.rows {
                rows.add([grouped(row.count), grouped(row.allocationsOfSize), exactBytes(row.blockSize), "+\(grouped(row.offset))",
                          row.value, "\(row.width) B"])
            }
            out.append(census.rows.isEmpty ? "  none found" : rows.render(width: layout.columns))
            printText(out.joined(separator: "\n"), width: layout.columns)
        }
    }

    private func render(_ report: WordsReport, width: Int?) -> String {
        var out: [String] = []
        let skipText = report.skip.isEmpty ? "nothing skipped" : "\(grouped(report.skippedWords)) skipped (\(report.skip.joined(separator: ", ")))"
        out.append("words: \(report.width)-byte aligned words in \(regionOptions.regions)"
                   + (regionOptions.range.map { " \($0)" } ?? "")
                   + ": \(grouped(report.scannedWords)) words (\(humanBytes(report.scannedBytes))), \(skipText)")
        if report.provenExact {
            if report.method == WordCensus.Method.fullCount.rawValue {
                out.append("top \(report.top.count): exact (every value counted, \(grouped(report.passes)) passes)")
            } else if report.errorBound == 0 {
                out.append("top \(report.top.count): proven exact (every value was counted)")
            } else {
                out.append("top \(report.top.count): proven exact (any value not listed occurs at most \(grouped(report.errorBound)) times)")
            }
        } else {
            out.append("top \(report.top.count): counts exact, ranking NOT proven: an unlisted value may occur up to \(grouped(report.errorBound)) times (use --exact)")
        }
        out.append("")
        var table = TextTable([.right("rank"), .right("value"), .right("count"), .right("share"), .name("class")])
        for row in report.top {
            table.add([String(row.rank), row.value, grouped(row.count), percent(row.share), row.description])
        }
        out.append(table.render(width: width))
        return out.joined(separator: "\n")
    }

    private func percent(_ share: Double) -> String {
        let hundredths = Int((share * 10000).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)%"
    }
}
