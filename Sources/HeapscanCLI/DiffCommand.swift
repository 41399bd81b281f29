import Analysis
import ArgumentParser
import ELFCore
import Foundation

struct DiffCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan diff core.1000 core.2000", "what grew between two cores of one program"),
        HelpExample("heapscan diff core.1000 --pid 1234", "what grew since a core, in the running process"),
        HelpExample("heapscan diff core.1000 core.2000 --top 0 --format json", "every changed group, as JSON"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what grew between two cores of one program, largest byte growth first.")

    @Argument(help: "The earlier core.")
    var old: String

    @Argument(help: "The later core; left out with --pid, which compares with the running process.")
    var new: String?

    @OptionGroup var input: InputOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @OptionGroup var layout: TextWidthOptions

    @Option(parsing: .unconditional, help: "Show at most this many rows (0 shows all).")
    var top = 20

    @Flag(help: "Compare even when the cores are of different programs.")
    var force = false

    @OptionGroup var modules: ModuleOptions

    func run() throws {
        guard top >= 0 else { throw CLIError(path: nil, message: "--top must be 0 or more") }
        // Two inputs: neither may be a stream (only one could be stdin, and a FIFO without
        // a writer must not block).
        let cores = try [InputOptions.open(old, options: input.sourceOptions, allowStream: false),
                         input.open(new, allowStream: false)]
        let moduleSets = try cores.map(modules.load)
        if !force, let mismatch = ProgramIdentity.mismatch(moduleSets[0], moduleSets[1]) {
            throw CLIError(path: cores[1].path, message: "\(mismatch); use --force to compare anyway")
        }
        let reports = try zip(cores, moduleSets).map { core, moduleSet in
            try Self.everyGroup(of: LeakAnalysis(core: core, modules: moduleSet))
        }
        var diff = GrowthDiff(old: reports[0], new: reports[1])
        if top > 0 { diff.rows = Array(diff.rows.prefix(top)) }
        switch format {
        case .json:
            // Both cores' warnings, each saying which core it is about.
            let warnings = zip(cores, reports).flatMap { core, report in report.warnings.map { "\(core.path): \($0)" } }
            try printJSON(diff, core: diff.new, warnings: warnings)
        case .text: printText(render(diff, width: layout.columns), width: layout.columns)
        }
    }

    /// Every group of the core, however small: a group that grew from one object to thousands
    /// must be matched in both cores.
    static func everyGroup(of analysis: LeakAnalysis) throws -> Classifier.Report {
        var options = Classifier.Options()
        options.minimumCount = 1
        guard let report = analysis.classify(options: options) else {
            throw CLIError(path: analysis.core.path, message: analysis.noHeapReason ?? "no malloc heap found")
        }
        return report
    }

    private func render(_ diff: GrowthDiff, width: Int?) -> String {
        var out = ["used heap \(humanBytes(diff.oldUsedBytes)) -> \(humanBytes(diff.newUsedBytes))", ""]
        guard !diff.rows.isEmpty else { return (out + ["no group changed"]).joined(separator: "\n") }
        var table = TextTable([.left("kind"), .name("suspect"), .right("old", dropRank: 2), .right("new"), .right("delta"),
                               .right("old bytes", dropRank: 1), .right("new bytes"), .right("byte delta"), .right("growth")])
        for row in diff.rows {
            table.add([row.kind.rawValue, row.name, grouped(row.oldCount), grouped(row.newCount),
                       signedGrouped(row.countDelta), humanBytes(row.oldBytes),
                       humanBytes(row.newBytes), (row.byteDelta > 0 ? "+" : row.byteDelta < 0 ? "-" : "") + humanBytes(row.byteDelta.magnitude),
                       row.growth.map { String(format: "%.2fx", $0) } ?? "new"])
        }
        out.append(table.render(width: width))
        return out.joined(separator: "\n")
    }
}
