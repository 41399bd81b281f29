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
        case .json: try printJSON(query, core: query.core, warnings: analysis.completenessWarnings)
        case .text: printText(render(query, width: options.layout.columns), width: options.layout.columns)
        }
    }

    private func render(_ query: ReferenceQuery, width: Int?) -> String {
        let what = "\(query.start) (\(query.owner), \(exactBytes(query.usableSize)), \(query.liveness?.rawValue ?? "liveness unknown"))"
        let noun = query.total == 1 ? "reference" : "references"
        var out = [query.direction == .incoming ? "\(grouped(query.total)) \(noun) to \(what)" : "\(grouped(query.total)) \(noun) from \(what)"]
        guard query.total > 0 else { return out.joined(separator: "\n") }
        out.append("")
        var groups = TextTable([.name(query.direction == .incoming ? "owner" : "points into"), .right("offset"), .right("count"), .right("share")])
        for group in query.groups {
            groups.add([group.owner, group.offset.map { "+\(grouped($0))" } ?? "", grouped(group.count), percent(group.share)])
        }
        out.append(groups.render(width: width))
        out.append("")
        // The queried allocation is the target of every incoming reference and the holder of
        // every outgoing one: on a narrow terminal that column goes first.
        let incoming = query.direction == .incoming
        var table = TextTable([.name("pointer at", minimum: 16), .name("holder", minimum: 16, dropRank: incoming ? nil : 1),
                               .right("offset", dropRank: incoming ? nil : 2), .name("target", minimum: 16, dropRank: incoming ? 1 : nil),
                               .right("target offset", dropRank: incoming ? 2 : nil), .left("liveness")])
        for reference in query.references {
            let place = reference.location + (reference.symbol.map { " (\($0))" } ?? "")
            table.add([place, reference.holder.map { "\($0) \(reference.owner)" } ?? reference.owner,
                       reference.offset.map { "+\(grouped($0))" } ?? "", "\(reference.target) \(reference.targetOwner)",
                       "+\(grouped(reference.targetOffset))", reference.liveness?.rawValue ?? ""])
        }
        out.append(table.render(width: width))
        if query.references.count < query.total {
            out.append("\(grouped(query.total - query.references.count)) more (--limit 0 lists all)")
        }
        for (level, groups) in query.deeper.enumerated() {
            out.append("")
            out.append("level \(level + 2): who points at the holders of level \(level + 1)")
            var table = TextTable([.name("owner"), .right("offset"), .right("count"), .right("share")])
            for group in groups {
                table.add([group.owner, group.offset.map { "+\(grouped($0))" } ?? "", grouped(group.count), percent(group.share)])
            }
            out.append(table.render(width: width))
        }
        return out.joined(separator: "\n")
    }
}
