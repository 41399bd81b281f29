import ArgumentParser
import ELFCore
import Regions

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the process, threads, and labelled memory regions of a core.")

    @OptionGroup var options: CoreOptions

    func run() throws {
        let core = try options.open()
        let summary = CoreSummary(core: core, regions: RegionMap(core: core))
        switch options.format {
        case .json: try printJSON(summary)
        case .text: print(render(summary))
        }
    }

    private func render(_ summary: CoreSummary) -> String {
        var out: [String] = []
        let process = summary.process
        out.append("core     \(summary.file) (\(summary.architecture), \(humanBytes(summary.totals.fileSize)))")
        out.append("process  \(process.command ?? "?") pid \(process.pid.map(String.init) ?? "?")"
                   + (process.executable.map { "  \($0)" } ?? ""))
        if let arguments = process.arguments, !arguments.isEmpty { out.append("args     \(arguments)") }
        if let name = process.signalName {
            out.append("signal   \(name)" + (process.faultAddress.map { " at \($0)" } ?? ""))
        }
        out.append("")
        out.append("threads (\(summary.threads.count))")
        var threads = TextTable([">tid", "sp", "pc"])
        for thread in summary.threads { threads.add([String(thread.tid), thread.stackPointer, thread.programCounter]) }
        out.append(threads.render())
        out.append("")
        out.append("regions (\(summary.regions.count))")
        var regions = TextTable(["start", "end", ">size", "perm", ">in core", "label", "name"])
        for row in summary.regions {
            regions.add([row.start, row.end, humanBytes(row.size), row.permissions,
                         row.presence == "complete" ? humanBytes(row.inCore) : "\(humanBytes(row.inCore)) (\(row.presence))",
                         row.label, row.label == row.name ? "" : row.name])
        }
        out.append(regions.render())
        out.append("")
        let totals = summary.totals
        out.append("mapped \(humanBytes(totals.mappedBytes)), in core \(humanBytes(totals.dumpedBytes)), heap \(humanBytes(totals.heapBytes)) (\(humanBytes(totals.heapBytesInCore)) in core)")
        if !summary.warnings.isEmpty {
            out.append("")
            out.append("warnings (\(summary.warnings.count))")
            for warning in summary.warnings { out.append("  \(warning)") }
        }
        return out.joined(separator: "\n")
    }
}
