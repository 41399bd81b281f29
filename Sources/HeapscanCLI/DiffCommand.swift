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
        case .json: try printJSON(diff)
        case .text: print(render(diff))
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

    private func render(_ diff: GrowthDiff) -> String {
        var out = ["used heap \(humanBytes(diff.oldUsedBytes)) -> \(humanBytes(diff.newUsedBytes))", ""]
        guard !diff.rows.isEmpty else { return (out + ["no group changed"]).joined(separator: "\n") }
        var table = TextTable(["kind", "suspect", ">old", ">new", ">delta", ">old bytes", ">new bytes", ">byte delta", ">growth"])
        for row in diff.rows {
            table.add([row.kind.rawValue, row.name, String(row.oldCount), String(row.newCount),
                       (row.countDelta > 0 ? "+" : "") + String(row.countDelta), humanBytes(row.oldBytes),
                       humanBytes(row.newBytes), (row.byteDelta > 0 ? "+" : "-") + humanBytes(row.byteDelta.magnitude),
                       row.growth.map { String(format: "%.2fx", $0) } ?? "new"])
        }
        out.append(table.render())
        return out.joined(separator: "\n")
    }
}
