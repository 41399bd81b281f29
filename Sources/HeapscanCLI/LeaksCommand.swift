import Allocators
import Analysis
import ArgumentParser
import ELFCore

extension Classifier.Ranking: ExpressibleByArgument {}

struct LeaksCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan leaks core.1234", "start here: what fills the heap, leaked bytes first"),
        HelpExample("heapscan leaks core.1234 --leaked-only --top 5", "only allocations no root reaches"),
        HelpExample("heapscan leaks --pid 1234", "a running process"),
        HelpExample("heapscan leaks core.1234 --anchored-by thread:4321", "what only thread 4321's stack and registers keep alive"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "leaks",
        abstract: "Rank what fills the heap: C++ types, container parts, magics and sizes, leaked vs anchored.",
        discussion: """
        Used allocations are grouped four ways, in this order: by C++ type (the first word is a \
        vtable address point), by the libstdc++ container they are part of (std::map, std::set, \
        std::list and unordered nodes, bucket arrays, deque maps and blocks, vector bodies named \
        by their elements' type, long strings' characters; nodes per block size), by magic (a \
        value that is not a pointer, small integer or text and recurs at one offset in \
        allocations of one size), and by size alone. Groups are ranked by \
        leaked bytes (sum of the allocator block sizes of the leaked allocations), then bytes, then \
        count; `--by total` ranks by bytes alone, what fills the heap. A group is shown when it has \
        --min-count allocations or holds --min-share of the used bytes (one huge block is as worth \
        seeing as many small ones); one line says what was left out.

        anchored: reachable from a root (registers, stacks from the stack pointer up, writable \
        module data and .bss, anonymous memory the allocator does not manage) through aligned \
        pointers to the start or inside of an allocation. leaked: not anchored. unreferenced: \
        leaked, and no pointer to it anywhere.

        --anchored-by ROOTS groups only the allocations anchored through those roots and no \
        others: stack, register, module-data (statics), anonymous, or thread:TID (that thread's \
        stack and registers). They are what the program would drop if those frames returned or \
        that thread exited; the rest of the heap does not hold them.
        """)

    @OptionGroup var options: CoreOptions
    @OptionGroup var rootOptions: RootOptions
    @OptionGroup var modules: ModuleOptions

    @Flag(help: "Rank only allocations that are not reachable from a root.")
    var leakedOnly = false

    @Flag(help: "Name each untyped group's most common owner: the typed object field pointing into its allocations.")
    var owners = false

    @Option(help: "Rank by leaked bytes (leaked) or by all bytes of the group (total).")
    var by: Classifier.Ranking = .leaked

    @Option(name: .customLong("anchored-by"), help: ArgumentHelp(
        "Only allocations anchored by these roots alone: stack, register, module-data, anonymous, or thread:TID.",
        valueName: "roots"))
    var anchoredBy: String?

    @OptionGroup var suspectOptions: SuspectOptions

    /// `--anchored-by`'s roots, checked against the core's threads once it is open.
    static func anchorSubset(_ text: String) throws -> AnchorSubset {
        let name = text.trimmingCharacters(in: .whitespaces).lowercased()
        if name.hasPrefix("thread:") {
            guard let tid = Int32(name.dropFirst("thread:".count)), tid > 0 else {
                throw CLIError(path: nil, message: "--anchored-by thread:TID needs a thread id, not '\(text)'")
            }
            return .thread(tid)
        }
        let aliases: [String: RootKind] = ["stacks": .stack, "registers": .register, "statics": .moduleData]
        guard let kind = RootKind(rawValue: name) ?? aliases[name] else {
            throw CLIError(path: nil, message: "unknown --anchored-by '\(text)' (use stack, register, module-data, anonymous, thread:TID)")
        }
        return .kind(kind)
    }

    func run() throws {
        try suspectOptions.check()
        let subset = try anchoredBy.map(Self.anchorSubset)
        if subset != nil && leakedOnly {
            throw CLIError(path: nil, message: "--anchored-by and --leaked-only exclude each other: one lists anchored allocations, the other leaked ones")
        }
        let core = try options.open()
        if case let .thread(tid)? = subset, !core.threads.contains(where: { $0.tid == tid }) {
            throw CLIError(path: core.path, message: "no thread \(tid) in the core (threads: \(core.threads.map { String($0.tid) }.joined(separator: ", ")))")
        }
        let analysis = LeakAnalysis(core: core, modules: try modules.load(core), rootKinds: try rootOptions.kinds(),
                                    anchoredOnlyBy: subset)
        if let subset, let roots = analysis.roots, !roots.hasRoots(in: subset) {
            throw CLIError(path: core.path, message: "no roots in \(subset) (--roots \(rootOptions.roots) leaves them out, or the core has none)")
        }
        var classifierOptions = Classifier.Options()
        classifierOptions.leakedOnly = leakedOnly
        classifierOptions.minimumCount = suspectOptions.minCount
        classifierOptions.minimumShare = suspectOptions.minShare / 100
        classifierOptions.owners = owners
        classifierOptions.ranking = by
        classifierOptions.inputArgument = options.input.pid.map { "--pid \($0)" }
        guard var report = analysis.classify(options: classifierOptions) else {
            throw CLIError(path: core.path, message: analysis.noHeapReason ?? "no malloc heap found")
        }
        report.keepFirst(suspectOptions.top)
        switch options.format {
        case .json: try printJSON(report, core: report.core, warnings: report.warnings)
        case .text:
            let width = options.layout.columns
            printText(render(report, profile: Self.profileLine(core, heap: analysis.jemallocHeap), width: width), width: width)
        }
    }

    /// One line when the process ran with jemalloc's heap profiling: its sampled stacks are
    /// `profile`'s answer to who allocated the leaks.
    static func profileLine(_ core: CoreFile, heap: JemallocHeap?) -> String? {
        guard let profile = CoreProfile(core, heap: heap)?.profile else { return nil }
        let count = profile.allocations.count
        let stacks = Set(profile.allocations.map(\.stackContext)).count
        return "prof       \(grouped(count)) sampled live allocation\(count == 1 ? "" : "s") in \(grouped(stacks)) stack\(stacks == 1 ? "" : "s") (heapscan profile)"
    }

    private func render(_ report: Classifier.Report, profile: String?, width: Int?) -> String {
        var out: [String] = []
        out.append("allocator  \(report.allocator), \(report.method)")
        var heapLine = "used       \(grouped(report.usedAllocations)) allocations, \(humanBytes(report.usedBytes))"
        if let leaked = report.leakedAllocations, let bytes = report.leakedBytes {
            heapLine += "; leaked \(grouped(leaked)) allocations, \(humanBytes(bytes))"
            if let unreferenced = report.unreferencedAllocations, unreferenced > 0 {
                heapLine += " (\(grouped(unreferenced)) unreferenced)"
            }
        }
        out.append(heapLine)
        out.append("roots      " + (report.reachabilityKnown ? report.rootKinds.joined(separator: ", ") : "unknown (no allocator walk)"))
        if let subset = report.anchoredOnlyBy, let count = report.selectedAllocations, let bytes = report.selectedBytes {
            out.append("only       anchored by \(subset) alone: \(count) allocations, \(humanBytes(bytes))")
        }
        if let profile { out.append(profile) }
        out.append("")
        if report.suspects.isEmpty {
            out.append("no group of \(grouped(suspectOptions.minCount)) or more allocations or \(percent(suspectOptions.minShare / 100)) of the used bytes")
            if let line = omittedLine(report.omitted) { out.append(line) }
            return out.joined(separator: "\n")
        }
        // On a narrow terminal the columns other columns imply go first (anchored is count minus
        // leaked), the example addresses late (the lines below name commands for the first three).
        var table = TextTable([.right("#"), .left("kind"), .name("suspect", minimum: 28), .right("count"), .right("bytes"),
                               .right("share", dropRank: 6), .right("size"), .right("leaked"), .right("leaked%", dropRank: 4),
                               .right("roots", dropRank: 2), .right("cycles", dropRank: 1), .right("anchored", dropRank: 3)]
                              + (owners ? [.name("owner", minimum: 12, dropRank: 7)] : []) + [.list("examples", dropRank: 5)])
        for (rank, suspect) in report.suspects.enumerated() {
            let leakedShare = suspect.leaked.map { suspect.count > 0 ? percent(Double($0) / Double(suspect.count)) : "0.0%" }
            var row: [String] = [String(rank + 1), suspect.kind.rawValue, suspect.name, grouped(suspect.count),
                                 humanBytes(suspect.bytes), percent(suspect.share), exactBytes(suspect.objectSize),
                                 suspect.leaked.map(grouped) ?? "?", leakedShare ?? "?",
                                 suspect.leakRoots.map(grouped) ?? "?", suspect.inLeakedCycles.map(grouped) ?? "?",
                                 suspect.anchored.map(grouped) ?? "?"]
            if owners {
                let share: String = percent(suspect.ownerShare ?? 0)
                row.append(suspect.owner.map { "\($0) \(share)" } ?? "")
            }
            row.append(suspect.examples.joined(separator: " "))
            table.add(row)
        }
        out.append(table.render(width: width))
        if let line = omittedLine(report.omitted) { out.append(line) }
        out.append("")
        for (rank, suspect) in report.suspects.prefix(3).enumerated() {
            out.append("#\(rank + 1): \(suspect.command)")
        }
        // The example worth explaining is a leaked one: why is it *not* anchored is the question.
        if let suspect = report.suspects.first(where: { ($0.leaked ?? 0) > 0 }) ?? report.suspects.first,
           let example = suspect.examples.first {
            out.append("explain one: heapscan explain \(options.input.pid.map { "--pid \($0)" } ?? options.core ?? "-") \(example)")
        }
        for warning in report.warnings { out.append("warning: \(warning)") }
        return out.joined(separator: "\n")
    }
}

extension LeaksCommand {
    /// "left out: 310 groups under 8 allocations and 1.0% of the used bytes (912 allocations,
    /// 80.1 KiB); 12 groups past --top 20 (…)", or nil when nothing is left out.
    func omittedLine(_ omitted: Classifier.Omitted) -> String? {
        var parts: [String] = []
        if omitted.smallGroups > 0 {
            parts.append("\(grouped(omitted.smallGroups)) group\(omitted.smallGroups == 1 ? "" : "s") under \(grouped(omitted.minimumCount)) allocations "
                         + "and \(percent(omitted.minimumShare)) of the used bytes (\(grouped(omitted.smallAllocations)) allocation\(omitted.smallAllocations == 1 ? "" : "s"), "
                         + "\(humanBytes(omitted.smallBytes)); --min-count 1 shows them)")
        }
        if omitted.groupsPastTop > 0 {
            parts.append("\(grouped(omitted.groupsPastTop)) group\(omitted.groupsPastTop == 1 ? "" : "s") past --top \(suspectOptions.top) "
                         + "(\(grouped(omitted.allocationsPastTop)) allocations, \(humanBytes(omitted.bytesPastTop)); --top 0 shows them)")
        }
        return parts.isEmpty ? nil : "left out: " + parts.joined(separator: "; ")
    }
}

/// `12.3%`.
func percent(_ share: Double) -> String {
    let tenths = (share * 1000).rounded() / 10
    return "\(tenths)%"
}
