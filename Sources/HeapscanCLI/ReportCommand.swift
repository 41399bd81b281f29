import Analysis
import ArgumentParser
import ELFCore
import Foundation
import HTMLReport

struct ReportCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan report core.1234 -o heap.html", "one HTML page to share: treemap, suspects, sizes"),
        HelpExample("heapscan report core.2000 --baseline core.1000 -o growth.html", "the same, with what grew since core.1000"),
        HelpExample("heapscan report --pid 1234 -o now.html", "a running process"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page of the heap: what fills it, the top suspects, sizes, regions.",
        discussion: """
        The page opens from disk and fetches nothing: styles, charts (inline SVG) and a small sort \
        script are inside it. It shows the process and allocator, a treemap of used heap bytes by \
        group with the leaked part hatched, the top suspects as `leaks` ranks them (click a header \
        to sort), a histogram of block sizes, a map of the address space on a log scale, and a few \
        example objects per suspect as `show` prints them. With --baseline it adds the growth per \
        group since the earlier core, the numbers `diff` prints.
        """)

    @Argument(help: ArgumentHelp("The core (as for leaks); left out with --pid.", valueName: "core"))
    var core: String?

    @OptionGroup var input: InputOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the page to FILE (- for stdout).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("An earlier core of the same program: the page adds what grew since.", valueName: "old-core"))
    var baseline: String?

    @Flag(help: "Compare with the baseline even when the cores are of different programs.")
    var force = false

    @OptionGroup var rootOptions: RootOptions
    @OptionGroup var modules: ModuleOptions

    @OptionGroup var suspectOptions: SuspectOptions

    @Option(name: .customLong("examples"), parsing: .unconditional, help: "Example objects shown per listed suspect (0 to 3).")
    var examplesPerSuspect = 2

    func run() throws {
        try suspectOptions.check()
        guard (0...3).contains(examplesPerSuspect) else { throw CLIError(path: nil, message: "--examples must be 0 to 3") }
        // Two inputs: neither may be a stream, as for diff.
        let core = try input.open(core, allowStream: baseline == nil)
        let moduleSet = try modules.load(core)
        let analysis = LeakAnalysis(core: core, modules: moduleSet, rootKinds: try rootOptions.kinds())
        var options = Classifier.Options()
        options.minimumCount = suspectOptions.minCount
        options.minimumShare = suspectOptions.minShare / 100
        options.inputArgument = input.pid.map { "--pid \($0)" }
        guard let leaks = analysis.classify(options: options) else {
            throw CLIError(path: core.path, message: analysis.noHeapReason ?? "no malloc heap found")
        }
        let groups = try DiffCommand.everyGroup(of: analysis)
        var growth: GrowthDiff?
        if let baseline {
            let old = try InputOptions.open(baseline, options: input.sourceOptions, allowStream: false)
            let oldModules = try modules.load(old)
            if !force, let mismatch = ProgramIdentity.mismatch(oldModules, moduleSet) {
                throw CLIError(path: core.path, message: "\(mismatch); use --force to compare anyway")
            }
            growth = GrowthDiff(old: try DiffCommand.everyGroup(of: LeakAnalysis(core: old, modules: oldModules)),
                                // Group counts and bytes do not depend on the roots: this core's groups serve.
                                new: groups)
        }
        let content = ReportContent(analysis: analysis, leaks: leaks, groups: groups, tableRows: suspectOptions.top,
                                    examplesPerSuspect: examplesPerSuspect, growth: growth)
        let page = Data(ReportPage(content: content).render().utf8)
        if output == "-" {
            FileHandle.standardOutput.write(page)
            return
        }
        do {
            try page.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw CLIError(path: output, message: "cannot write the report (\((error as NSError).localizedDescription))")
        }
    }
}
