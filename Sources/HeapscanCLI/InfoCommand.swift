import ArgumentParser
import ELFCore
import Regions
import Symbols

struct InfoCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan info core.1234", "the process, its threads, regions and modules"),
        HelpExample("heapscan info core.1234.zst --format json", "a compressed core, as JSON"),
        HelpExample("heapscan info --pid 1234", "a running process (stopped only while it is copied)"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the process, threads, and labelled memory regions of a core.")

    @OptionGroup var options: CoreOptions
    @OptionGroup var modules: ModuleOptions

    func run() throws {
        let core = try options.open()
        let summary = CoreSummary(core: core, regions: RegionMap(core: core))
        let moduleSummary = ModuleSummary(try modules.load(core))
        switch options.format {
        case .json: try printJSON(InfoReport(summary: summary, modules: moduleSummary), core: summary.core,
                                   warnings: summary.warnings + moduleSummary.warnings)
        case .text: printText(render(summary, moduleSummary, width: options.layout.columns), width: options.layout.columns)
        }
    }

    /// The JSON of `info`: the core summary's fields plus `modules` (their warnings join the
    /// core's in the common `warnings`).
    struct InfoReport: Encodable {
        let summary: CoreSummary
        let modules: ModuleSummary

        enum Keys: String, CodingKey { case modules }

        func encode(to encoder: Encoder) throws {
            try summary.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(modules.modules, forKey: .modules)
        }
    }

    private func render(_ summary: CoreSummary, _ moduleSummary: ModuleSummary, width: Int?) -> String {
        var out: [String] = []
        let process = summary.process
        out.append("core     \(summary.core) (\(summary.architecture), \(humanBytes(summary.totals.fileSize)))")
        out.append("process  \(process.command ?? "?") pid \(process.pid.map(String.init) ?? "?")"
                   + (process.executable.map { "  \($0)" } ?? ""))
        if let arguments = process.arguments, !arguments.isEmpty { out.append("args     \(arguments)") }
        if let name = process.signalName {
            out.append("signal   \(name)" + (process.faultAddress.map { " at \($0)" } ?? ""))
        }
        out.append("")
        out.append("threads (\(grouped(summary.threads.count)))")
        var threads = TextTable([">tid", "sp", "pc"])
        for thread in summary.threads { threads.add([String(thread.tid), thread.stackPointer, thread.programCounter]) }
        out.append(threads.render(width: width))
        out.append("")
        out.append("regions (\(grouped(summary.regions.count)))")
        var regions = TextTable([.left("start"), .left("end", dropRank: 2), .right("size"), .left("perm"),
                                 .right("in core", dropRank: 1), .left("label"), .name("name", minimum: 16)])
        for row in summary.regions {
            regions.add([row.start, row.end, humanBytes(row.size), row.permissions,
                         row.presence == "complete" ? humanBytes(row.inCore) : "\(humanBytes(row.inCore)) (\(row.presence))",
                         row.label, row.label == row.name ? "" : row.name])
        }
        out.append(regions.render(width: width))
        out.append("")
        out.append("modules (\(grouped(moduleSummary.modules.count)))")
        var modules = TextTable([.name("name", minimum: 12), .left("start", dropRank: 3), .left("end", dropRank: 2), .left("build-id", dropRank: 1),
                                 .name("file", minimum: 12), .left("matches"), .name("debuginfo", minimum: 12)])
        for row in moduleSummary.modules {
            let file = row.file ?? (row.imageInCore ? "(image in core)" : "missing")
            let match = row.buildIDMatches.map { $0 ? "yes" : "NO" } ?? "-"
            modules.add([row.name, row.start, row.end, row.buildID.map { String($0.prefix(16)) } ?? "-", file, match,
                         row.debugInfo ?? "-"])
        }
        out.append(modules.render(width: width))
        out.append("")
        let totals = summary.totals
        out.append("mapped \(humanBytes(totals.mappedBytes)), in core \(humanBytes(totals.dumpedBytes)), heap \(humanBytes(totals.heapBytes)) (\(humanBytes(totals.heapBytesInCore)) in core)")
        let warnings = summary.warnings + moduleSummary.warnings
        if !warnings.isEmpty {
            out.append("")
            out.append("warnings (\(grouped(warnings.count)))")
            for warning in warnings { out.append("  \(warning)") }
        }
        return out.joined(separator: "\n")
    }
}
