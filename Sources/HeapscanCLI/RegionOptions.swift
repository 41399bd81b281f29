import ArgumentParser
import ELFCore
import Regions

/// `--regions` and `--range`: which memory a scan covers.
struct RegionOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Region labels to scan, comma separated: heap, stack, file, vdso, vsyscall, other, or all.",
        valueName: "labels"))
    var regions: String = "heap"

    @Option(help: ArgumentHelp(
        "Only this address range: START-END (end exclusive) or gdb's START,+LENGTH.",
        valueName: "range"))
    var range: String?

    func selection() throws -> RegionSelection {
        do {
            let labels = try RegionSelection.parseLabels(regions)
            return RegionSelection(labels: labels, range: try range.map(RegionSelection.parseRange))
        } catch let error as RegionSelection.ParseError {
            throw CLIError(path: nil, message: error.description)
        }
    }

    /// The selected regions of a core; an error when they hold no bytes at all.
    func select(in map: RegionMap, core: String) throws -> [Region] {
        let selected = map.select(try selection())
        guard selected.contains(where: { !$0.bytes.isEmpty }) else {
            let what = "--regions \(regions)" + (range.map { " --range \($0)" } ?? "")
            throw CLIError(path: core, message: "\(what) selects no memory that is in the core")
        }
        return selected
    }
}
