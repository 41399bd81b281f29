import Analysis
import ArgumentParser
import ELFCore
import Regions

extension ReferenceQuery.Direction: EnumerableFlag {}

struct RefsCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan refs core.1234 0x55d0c1a2b3c0", "who points at the allocation, grouped by owner and offset"),
        HelpExample("heapscan refs core.1234 0x55d0c1a2b3c0 --depth 2", "and who points at those holders"),
        HelpExample("heapscan refs core.1234 0x55d0c1a2b3c0 --outgoing", "what the allocation points at"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "refs",
        abstract: "Show who points at an allocation (--incoming) or what it points at (--outgoing).",
        discussion: """
            Incoming: every aligned word of the roots and of the used allocations holding an \
            address inside the allocation, grouped by owner (the holder's type, "THD at +24" \
            behind an allocator header, or its block size; the root's name) and offset in the \
            holder. Outgoing: every aligned word of the allocation pointing into a used \
            allocation, grouped by the target's owner.
            """)

    @OptionGroup var options: CoreOptions
    @OptionGroup var rootOptions: RootOptions
    @OptionGroup var modules: ModuleOptions

    @Argument(help: "An address inside the allocation (0x… or decimal).")
    var address: String?

    @Flag(help: "Which references: to the allocation (the default) or from it.")
    var direction: ReferenceQuery.Direction = .incoming

    @Option(parsing: .unconditional, help: "List at most this many references (the groups count all of them).")
    var limit = 20

    @Option(parsing: .unconditional, help: "With --incoming, follow references back this many levels (groups only past the first).")
    var depth = 1

    func run() throws {
        guard limit >= 0 else { throw CLIError(path: nil, message: "--limit must be 0 or more") }
        guard depth >= 1, depth <= 16 else { throw CLIError(path: nil, message: "--depth must be from 1 to 16") }
        let (coreName, rest) = options.input.shift(core: options.core, address.map { [$0] } ?? [])
        guard let address = rest.first else { throw ValidationError("missing the address") }
        guard let value = RegionSelection.parseNumber(address) else {
            throw CLIError(path: nil, message: "bad address '\(address)' (use 0x… or a decimal number)")
        }
        let core = try options.input.open(coreName)
        let analysis = LeakAnalysis(core: core, modules: try modules.load(core), rootKinds: try rootOptions.kinds())
        guard analysis.table != nil else {
            throw CLIError(path: core.path, message: analysis.noHeapReason ?? "no malloc heap found")
        }
        guard let query = analysis.references(of: value, direction: direction, limit: limit == 0 ? Int.max : limit,
                                                   depth: depth) else {
            throw CLIError(path: core.path, message: "\(hex(value)) is not inside a used allocation")
        }
        switch options.format {
        case .json: try printJSON(query)
        case .text: print(render(query))
        }
    }

    private func render(_ query: ReferenceQuery) -> String {
        let what = "\(query.start) (\(query.owner), \(query.usableSize) B, \(query.liveness?.rawValue ?? "liveness unknown"))"
        let noun = query.total == 1 ? "reference" : "references"
        var out = [query.direction == .incoming ? "\(query.total) \(noun) to \(what)" : "\(query.total) \(noun) from \(what)"]
        guard query.total > 0 else { return out.joined(separator: "\n") }
        out.append("")
        var groups = TextTable([query.direction == .incoming ? "owner" : "points into", ">offset", ">count", ">share"])
        for group in query.groups {
            groups.add([group.owner, group.offset.map { "+\($0)" } ?? "", String(group.count), percent(group.share)])
        }
        out.append(groups.render())
        out.append("")
        var table = TextTable(["pointer at", "holder", ">offset", "target", ">target offset", "liveness"])
        for reference in query.references {
            let place = reference.location + (reference.symbol.map { " (\($0))" } ?? "")
            table.add([place, reference.holder.map { "\($0) \(reference.owner)" } ?? reference.owner,
                       reference.offset.map { "+\($0)" } ?? "", "\(reference.target) \(reference.targetOwner)",
                       "+\(reference.targetOffset)", reference.liveness?.rawValue ?? ""])
        }
        out.append(table.render())
        if query.references.count < query.total {
            out.append("\(query.total - query.references.count) more (--limit 0 lists all)")
        }
        for (level, groups) in query.deeper.enumerated() {
            out.append("")
            out.append("level \(level + 2): who points at the holders of level \(level + 1)")
            var table = TextTable(["owner", ">offset", ">count", ">share"])
            for group in groups {
                table.add([group.owner, group.offset.map { "+\($0)" } ?? "", String(group.count), percent(group.share)])
            }
            out.append(table.render())
        }
        return out.joined(separator: "\n")
    }
}
