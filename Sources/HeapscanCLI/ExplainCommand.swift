import Analysis
import ArgumentParser
import ELFCore
import Regions

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show why an allocation is still referenced: one chain of pointers from a root.")

    @OptionGroup var options: CoreOptions
    @OptionGroup var rootOptions: RootOptions
    @OptionGroup var modules: ModuleOptions

    @Argument(help: "An address inside the allocation (0x… or decimal).")
    var address: String?

    func run() throws {
        let (coreName, rest) = options.input.shift(core: options.core, address.map { [$0] } ?? [])
        guard let address = rest.first else { throw ValidationError("missing the address to explain") }
        guard let value = RegionSelection.parseNumber(address) else {
            throw CLIError(path: nil, message: "bad address '\(address)' (use 0x… or a decimal number)")
        }
        let core = try options.input.open(coreName)
        let analysis = LeakAnalysis(core: core, modules: try modules.load(core), rootKinds: try rootOptions.kinds(), recordChains: true)
        guard analysis.table != nil else {
            throw CLIError(path: core.path, message: analysis.noHeapReason ?? "no malloc heap found")
        }
        guard let chain = analysis.explain(value) else {
            throw CLIError(path: core.path, message: "\(hex(value)) is not inside a used allocation")
        }
        switch options.format {
        case .json: try printJSON(chain)
        case .text: print(render(chain))
        }
    }

    private func render(_ chain: ReferenceChain) -> String {
        let notes = chain.warnings.map { "warning: \($0)" }
        guard chain.liveness == .anchored, let kind = chain.rootKind, let name = chain.rootName else {
            return ([chain.liveness == .leaked
                ? "\(chain.target) is leaked: no root reaches it (memory that is not a root still points to it)"
                : "\(chain.target) is leaked and unreferenced: no pointer to it anywhere"] + notes).joined(separator: "\n")
        }
        let article = kind.rawValue.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        var out = ["\(chain.target) is anchored by \(article) \(kind.rawValue) root: \(name)", ""]
        var table = TextTable([">step", "pointer at", ">offset", "points into", ">size", "edge"])
        for (step, link) in chain.links.enumerated() {
            let place = link.pointerAtSymbol ?? link.frame ?? link.member
            table.add([String(step + 1), link.pointerAt + (place.map { " (\($0))" } ?? ""),
                       link.offsetInHolder.map { "+\($0)" } ?? "root", link.allocation, "\(link.size) B", link.edge.rawValue])
        }
        out.append(table.render())
        out += ["", "edge: precise = a pointer member of a type DWARF describes",
                "      recognised = a string's, vector's or deque's pointer known by its shape",
                "      conservative = a word that looks like a pointer"]
        return out.joined(separator: "\n")
    }
}
