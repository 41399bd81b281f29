import Analysis
import ArgumentParser
import ELFCore
import Regions

struct ExplainCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan explain core.1234 0x55d0c1a2b3c0", "the chain of pointers from a root to an allocation"),
        HelpExample("heapscan explain core.1234 0x55d0c1a2b3c0 --roots stack", "only stacks anchor: is it held by a stack?"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show why an allocation is still referenced: one chain of pointers from a root (--all: every way it is held).")

    @OptionGroup var options: CoreOptions
    @OptionGroup var rootOptions: RootOptions
    @OptionGroup var modules: ModuleOptions

    @Argument(help: "An address inside the allocation (0x… or decimal).")
    var address: String?

    @Flag(help: "Every anchor path: one per reference from a root or an anchored allocation, each with the shortest chain to its holder.")
    var all = false

    @Option(parsing: .unconditional, help: "With --all, list at most this many paths (0 lists all).")
    var limit = 20

    func run() throws {
        let (coreName, rest) = options.input.shift(core: options.core, address.map { [$0] } ?? [])
        guard let address = rest.first else { throw ValidationError("missing the address to explain") }
        guard let value = RegionSelection.parseNumber(address) else {
            throw CLIError(path: nil, message: "bad address '\(address)' (use 0x… or a decimal number)")
        }
        guard limit >= 0 else { throw CLIError(path: nil, message: "--limit must be 0 or more") }
        let core = try options.input.open(coreName)
        let analysis = LeakAnalysis(core: core, modules: try modules.load(core), rootKinds: try rootOptions.kinds(), recordChains: true)
        guard analysis.table != nil else {
            throw CLIError(path: core.path, message: analysis.noHeapReason ?? "no malloc heap found")
        }
        if all {
            guard let paths = analysis.anchorPaths(of: value, limit: limit == 0 ? Int.max : limit) else {
                throw CLIError(path: core.path, message: "\(hex(value)) is not inside a used allocation")
            }
            switch options.format {
            case .json: try printJSON(paths, core: paths.core, warnings: paths.warnings)
            case .text: printText(render(paths, width: options.layout.columns), width: options.layout.columns)
            }
            return
        }
        guard let chain = analysis.explain(value) else {
            throw CLIError(path: core.path, message: "\(hex(value)) is not inside a used allocation")
        }
        switch options.format {
        case .json: try printJSON(chain, core: chain.core, warnings: chain.warnings)
        case .text: printText(render(chain, width: options.layout.columns), width: options.layout.columns)
        }
    }

    private func render(_ chain: ReferenceChain, width: Int?) -> String {
        let notes = chain.warnings.map { "warning: \($0)" }
        guard chain.liveness == .anchored, let kind = chain.rootKind, let name = chain.rootName else {
            return ([chain.liveness == .leaked
                ? "\(chain.target) is leaked: no root reaches it (memory that is not a root still points to it)"
                : "\(chain.target) is leaked and unreferenced: no pointer to it anywhere"] + notes).joined(separator: "\n")
        }
        let article = kind.rawValue.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        return (["\(chain.target) is anchored by \(article) \(kind.rawValue) root: \(name)", ""] + links(chain, width: width) + Self.edgeLegend)
            .joined(separator: "\n")
    }

    private func render(_ paths: AnchorPaths, width: Int?) -> String {
        var out = ["\(paths.target) is \(paths.liveness.rawValue): \(grouped(paths.total)) anchor path\(paths.total == 1 ? "" : "s")"]
        for (number, chain) in paths.paths.enumerated() {
            out.append("")
            out.append("path \(number + 1): from \(chain.rootKind?.rawValue ?? "?") root \(chain.rootName ?? "?")")
            out += links(chain, width: width)
        }
        if paths.paths.count < paths.total { out.append("\(grouped(paths.total - paths.paths.count)) more (--limit 0 lists all)") }
        if !paths.paths.isEmpty { out += Self.edgeLegend }
        out += paths.warnings.map { "warning: \($0)" }
        return out.joined(separator: "\n")
    }

    private func links(_ chain: ReferenceChain, width: Int?) -> [String] {
        var table = TextTable([.right("step"), .name("pointer at"), .right("offset"), .name("points into"), .right("size"), .left("edge")])
        for (step, link) in chain.links.enumerated() {
            let place = link.pointerAtSymbol ?? link.frame ?? link.member
            table.add([String(step + 1), link.pointerAt + (place.map { " (\($0))" } ?? ""),
                       link.offsetInHolder.map { "+\(grouped($0))" } ?? "root", link.allocation, exactBytes(link.size), link.edge.rawValue])
        }
        return [table.render(width: width)]
    }

    static let edgeLegend = ["", "edge: precise = a pointer member of a type DWARF describes",
                             "      recognised = a string's, vector's or deque's pointer known by its shape",
                             "      conservative = a word that looks like a pointer"]
}
