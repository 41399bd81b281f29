import Allocators
import ArgumentParser
import ELFCore

struct HeapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heap",
        abstract: "Show the allocator's view of the heap: per-size-class statistics, large allocations, thread caches.")

    @OptionGroup var options: CoreOptions

    @Option(help: "Show only the N size classes holding the most bytes (0: all).")
    var top: Int = 0

    func run() throws {
        let core = try options.open()
        let heap: JemallocHeap?
        do {
            heap = try JemallocHeap.read(core: core)
        } catch let error as JemallocError {
            throw CLIError(path: options.core, message: error.description)
        }
        guard let heap else {
            throw CLIError(path: options.core, message: "no jemalloc heap found (glibc walker not on this branch)")
        }
        let report = heap.report(memory: core.addressSpace)
        switch options.format {
        case .json: try printJSON(report)
        case .text: print(renderJemallocHeap(report, top: top))
        }
    }
}
