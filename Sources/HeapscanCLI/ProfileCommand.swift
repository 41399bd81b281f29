import Allocators
import Analysis
import ArgumentParser
import Foundation
import ELFCore
import PprofEncoding
import Symbols

/// What `profile` prints.
enum ProfileFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
    /// One line per stack, "outer;…;inner bytes", for flamegraph.pl and speedscope.
    case folded
    /// jemalloc's heap_v2 text, as `prof.dump` writes it, for jeprof.
    case jeprof
    /// pprof's gzip-compressed profile.proto, written to `--output`, for `pprof` and `go tool pprof`.
    case pprof
}

struct ProfileCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan profile core.1234", "the stacks that made the sampled live allocations"),
        HelpExample("heapscan profile core.1234 --format folded", "folded stacks for flamegraph.pl or speedscope"),
        HelpExample("heapscan profile core.1234 --format jeprof --lg-sample 19", "jemalloc's heap_v2 for jeprof --text EXE FILE"),
        HelpExample("heapscan profile core.1234 --format pprof -o heap.pb.gz", "a profile for pprof -top heap.pb.gz"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Group jemalloc's sampled live allocations by the stack that made them, leaked vs anchored.",
        discussion: """
        A process that ran with MALLOC_CONF=prof:true keeps the backtraces of its sampled \
        allocations in memory (each sampled allocation's extent names a context holding its \
        stack), so they are in its core. Stacks are ranked by sampled bytes (usable sizes, as \
        jemalloc counts them); leaked and anchored are the leak analysis's verdicts. Frames \
        inside jemalloc itself are left out of the text and folded output.
        """)

    @Argument(help: ArgumentHelp(
        "The core: an ELF core file, compressed or not, a pipe, or - for stdin. Left out with --pid.",
        valueName: "core"))
    var core: String?

    @OptionGroup var input: InputOptions
    @OptionGroup var rootOptions: RootOptions
    @OptionGroup var modules: ModuleOptions

    @Option(help: "Output format: text, json, folded (flame-graph stacks), jeprof (heap_v2 for jeprof) or pprof (profile.proto, gzipped, to --output).")
    var format: ProfileFormat = .text

    @Option(name: [.short, .long], help: "The file pprof output goes to (it is binary).")
    var output: String?

    @OptionGroup var layout: TextWidthOptions

    @Flag(help: "Only stacks with leaked allocations, ranked (and folded) by leaked bytes.")
    var leakedOnly = false

    @Option(parsing: .unconditional, help: "Show at most this many stacks (0 shows all; jeprof output has all).")
    var top = 20

    @Option(help: ArgumentHelp("The process's lg_prof_sample: adds estimates of the live objects and bytes the samples stand for.",
                               discussion: "The core does not record the rate without jemalloc's symbols; the jeprof header assumes jemalloc's default, 19, without it."))
    var lgSample: Int?

    func run() throws {
        guard top >= 0 else { throw CLIError(path: nil, message: "--top must be 0 or more") }
        guard (format == .pprof) == (output != nil) else {
            throw ValidationError(format == .pprof ? "--format pprof writes a binary file: name it with -o FILE"
                                                   : "--output is for --format pprof; other formats go to stdout")
        }
        if let lgSample, !(0...62).contains(lgSample) { throw CLIError(path: nil, message: "--lg-sample must be in 0...62") }
        let core = try input.open(core)
        guard JemallocDetection.detect(in: core) != nil else {
            throw CLIError(path: core.path, message: "the process did not use jemalloc, so it has no heap profile (jemalloc with MALLOC_CONF=prof:true)")
        }
        let moduleSet = try modules.load(core)
        // The leak analysis reads jemalloc's heap once; the profiling records are found from it.
        let analysis = LeakAnalysis(core: core, modules: moduleSet, rootKinds: try rootOptions.kinds())
        guard let heap = analysis.jemallocHeap else {
            throw CLIError(path: core.path, message: analysis.noHeapReason ?? "jemalloc's structures could not be read")
        }
        guard let sampled = CoreProfile(core, heap: heap) else {
            throw CLIError(path: core.path, message: "the process did not run with MALLOC_CONF=prof:true")
        }
        let stacks = StackProfile(profile: sampled.profile, table: analysis.table, reachability: analysis.reachability,
                                  allocatorCode: sampled.allocatorCode)
        let report = ProfileReport(core: core.path, profile: stacks, leakedOnly: leakedOnly, top: top, lgSample: lgSample,
                                   warnings: analysis.completenessWarnings + stacks.warnings) { moduleSet.callSite(returnAddress: $0) }
        switch format {
        case .json: try printJSON(report, core: report.core, warnings: report.warnings)
        case .text: printText(report.text, width: layout.columns)
        case .jeprof:
            for warning in report.warnings { printError("warning: \(warning)") }
            if lgSample == nil { printError("note: the jeprof header assumes lg_prof_sample 19 (jemalloc's default); --lg-sample N sets it") }
            print(JeprofProfile.render(stacks, lgSample: lgSample ?? 19, core: core))
        case .folded:
            for warning in report.warnings { printError("warning: \(warning)") }
            if !report.folded.isEmpty { print(report.folded) }
        case .pprof:
            for warning in report.warnings { printError("warning: \(warning)") }
            let encoded = PprofProfile.encode(stacks, leakedOnly: leakedOnly, lgSample: lgSample, modules: moduleSet.modules) {
                moduleSet.callSite(returnAddress: $0)
            }
            let path = output ?? ""
            do {
                try PprofProfile.file(encoded).write(to: URL(fileURLWithPath: path))
            } catch {
                throw CLIError(path: path, message: "cannot write the profile: \(error)")
            }
        }
    }
}
