import Analysis
import ArgumentParser
import ELFCore
import Regions
import Symbols

extension TypeReport.Order: ExpressibleByArgument {}

struct TypesCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan types core.1234", "live C++ objects per dynamic type"),
        HelpExample("heapscan types core.1234 --sort bytes --top 10", "the ten types with the most bytes"),
        HelpExample("heapscan types core.1234 --exe ./server --sysroot /srv/root", "modules found under a sysroot"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "types",
        abstract: "Count live C++ objects per dynamic type, from the vptrs in memory.",
        discussion: """
            Classes are recognised from the vtable symbols of each module, or without symbols \
            from the RTTI before each vtable. Objects counts exactly the objects whose dynamic \
            type is the class; vptrs of base-class subobjects are counted separately.
            """)

    @OptionGroup var options: CoreOptions
    @OptionGroup var modules: ModuleOptions
    @OptionGroup var scan: RegionOptions

    @Option(name: .customLong("min-count"), parsing: .unconditional, help: "Hide classes with fewer objects.")
    var minCount: Int = 1

    @Option(parsing: .unconditional, help: "Show only the first N classes (0 shows all).")
    var top: Int?

    @Option(help: "Order by object count or by estimated bytes: count or bytes.")
    var sort: TypeReport.Order = .count

    @Flag(help: "Show mangled type names.")
    var mangled = false

    @Flag(help: "Scan every heap word for vptrs even when the allocator is known.")
    var scanWords = false

    func validate() throws {
        if let top, top < 0 { throw CLIError(path: nil, message: "--top must be 0 or more") }
        if minCount < 0 { throw CLIError(path: nil, message: "--min-count must be 0 or more") }
    }

    func run() throws {
        let core = try options.open()
        let moduleSet = try modules.load(core)
        let selection = try scan.selection()
        let map = RegionMap(core: core)
        _ = try scan.select(in: map, core: core.path)
        let identifier = TypeIdentifier(modules: moduleSet, memory: ProcessMemory(core: core, modules: moduleSet))
        let counted = TypeCounting.census(core: core, regions: map, selection: selection,
                                          identifier: identifier, forceScan: scanWords)
        let report = TypeReport(census: counted.census, file: core.path,
                                options: .init(minCount: minCount, top: top == 0 ? nil : top, order: sort, mangled: mangled),
                                warnings: moduleSet.warnings + counted.warnings, countedBy: counted.method)
        switch options.format {
        case .json: try printJSON(report, core: report.core, warnings: report.warnings)
        case .text: printText(render(report, width: options.layout.columns), width: options.layout.columns)
        }
    }

    private func render(_ report: TypeReport, width: Int?) -> String {
        var table = TextTable([.name("class"), .right("objects"), .right("2nd vptrs", dropRank: 2), .right("size"),
                               .right("est. bytes"), .name("module", minimum: 12, dropRank: 3), .left("vtable", dropRank: 1)])
        for row in report.rows {
            table.add([row.offset == 0 ? row.name : "\(row.name) at +\(row.offset)", grouped(row.objects), row.secondaryVptrs > 0 ? grouped(row.secondaryVptrs) : "",
                       sizeText(row), row.estimatedBytes.map(humanBytes) ?? "?",
                       row.module ?? "?", row.vtable ?? "?"])
        }
        var out = [table.render(width: width)]
        let hidden = report.classes - report.rows.count
        out.append("")
        let scope = report.scannedBytes.map { "in \(humanBytes($0)) scanned" } ?? "counted by \(report.countedBy)"
        out.append("\(grouped(report.objects)) objects of \(grouped(report.classes)) classes \(scope)"
                   + (hidden > 0 ? " (\(grouped(hidden)) classes not shown)" : ""))
        if !report.warnings.isEmpty {
            out.append("")
            out.append("warnings (\(grouped(report.warnings.count)))")
            for warning in report.warnings { out.append("  \(warning)") }
        }
        return out.joined(separator: "\n")
    }

    /// `24 B dwarf`, `32 B stride 95% of 99`.
    private func sizeText(_ row: TypeReport.Row) -> String {
        guard let size = row.size, let source = row.sizeSource else { return "?" }
        if source == ObjectSize.Source.stride.rawValue, let confidence = row.sizeConfidence, let samples = row.sizeSamples {
            return "\(exactBytes(size)) stride \(Int((confidence * 100).rounded()))% of \(grouped(samples))"
        }
        return "\(exactBytes(size)) \(source)"
    }
}
