import ArgumentParser
import Regions

/// Which memory a scan reads: `--regions` (heap by default) and `--range`.
struct RegionOptions: ParsableArguments {
    @Option(help: "Regions to scan, comma-separated: heap, stack, file, vdso, vsyscall, other, all.")
    var regions: String = "heap"

    @Option(help: "Only this address range: START-END (end exclusive) or START,+LENGTH.")
    var range: String?

    func selection() throws -> RegionSelection {
        do {
            return RegionSelection(labels: try RegionSelection.parseLabels(regions),
                                   range: try range.map(RegionSelection.parseRange))
        } catch let error as RegionSelection.ParseError {
            throw CLIError(path: nil, message: error.description)
        }
    }
}
