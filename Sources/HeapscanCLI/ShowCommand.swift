import Allocators
import Analysis
import ArgumentParser
import ELFCore
import Regions
import Symbols

struct ShowCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan show core.1234 0x55d0c1a2b3c0", "an example address leaks printed, word by word"),
        HelpExample("heapscan show core.1234 0x55d0c1a2b3c0 --bytes 1024", "more of a large allocation"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the allocation containing an address (allocator, size, leaked or anchored, type and words), or what any other mapped address is.",
        discussion: """
        Each word is shown with what it points into: another allocation (its type and whether it is \
        anchored or leaked) or a mapped region. Start from an example address `leaks` prints. An \
        address in no allocation is described by its region: module data with the symbol covering \
        it, a thread's stack (live or dead), the allocator's own memory.
        """)

    @OptionGroup var options: CoreOptions
    @OptionGroup var rootOptions: RootOptions
    @OptionGroup var modules: ModuleOptions

    @Argument(help: "An address inside the allocation (0x… or decimal).")
    var address: String?

    @Option(parsing: .unconditional, help: "Show at most this many bytes of the allocation.")
    var bytes = 256

    func run() throws {
        let (coreName, rest) = options.input.shift(core: options.core, address.map { [$0] } ?? [])
        guard let address = rest.first else { throw ValidationError("missing the address to show") }
        guard let value = RegionSelection.parseNumber(address) else {
            throw CLIError(path: nil, message: "bad address '\(address)' (use 0x… or a decimal number)")
        }
        guard bytes >= 0 else { throw CLIError(path: nil, message: "--bytes must be 0 or more") }
        let core = try options.input.open(coreName)
        let moduleSet = try modules.load(core)
        let analysis = LeakAnalysis(core: core, modules: moduleSet, rootKinds: try rootOptions.kinds())
        guard analysis.table != nil else {
            throw CLIError(path: core.path, message: analysis.noHeapReason ?? "no malloc heap found")
        }
        guard let view = analysis.view(of: value, maxBytes: bytes) else {
            guard let memory = analysis.addressView(of: value, maxBytes: bytes) else {
                throw CLIError(path: core.path, message: "\(hex(value)) is not inside an allocation nor mapped in the core")
            }
            switch options.format {
            case .json: try printJSON(memory, core: memory.core, warnings: analysis.completenessWarnings)
            case .text: printText(render(memory, width: options.layout.columns), width: options.layout.columns)
            }
            return
        }
        switch options.format {
        case .json: try printJSON(view, core: view.core, warnings: view.warnings)
        case .text:
            let width = options.layout.columns
            printText(render(view, width: width), width: width)
            if let stack = Self.allocationStack(core: core, heap: analysis.jemallocHeap, start: view.start, modules: moduleSet) {
                printText(stack, width: width)
            }
        }
    }

    private func render(_ view: AddressView, width: Int?) -> String {
        var out = ["\(view.address): \(view.regionName) +\(hex(view.offsetInRegion)) (\(view.region), no allocation)"]
        if let symbol = view.symbol { out.append("symbol     \(symbol)") }
        if let note = view.note { out.append("note       \(note)") }
        out.append("")
        out.append(wordTable(view.words, width: width))
        return out.joined(separator: "\n")
    }

    private func wordTable(_ words: [AllocationView.Word], width: Int?) -> String {
        var table = TextTable([.right("offset"), .left("value"), .name("points to")])
        for word in words { table.add(["+\(word.offset)", word.value, word.pointsTo ?? ""]) }
        return table.render(width: width)
    }

    /// Where a sampled allocation was made, when the process ran with jemalloc's profiling.
    static func allocationStack(core: CoreFile, heap: JemallocHeap?, start: String, modules: ModuleSet) -> String? {
        guard let profile = CoreProfile(core, heap: heap),
              let sample = profile.profile.allocations.first(where: { hex($0.address) == start }) else { return nil }
        let first = StackProfile.firstCallerFrame(sample.frames, profile.allocatorCode)
        return (["", "allocated at (sampled by jemalloc's profiler, thread t\(sample.threadUID), \(grouped(sample.requestedSize)) bytes requested):"]
            + sample.frames[first...].map { "    \(modules.callSite(returnAddress: $0).description)" }).joined(separator: "\n")
    }

    private func render(_ view: AllocationView, width: Int?) -> String {
        var out: [String] = []
        let what = view.type.map { "\($0) object" } ?? view.container ?? "allocation"
        out.append("\(view.start): \(view.used ? "used" : "free") \(what), \(exactBytes(view.usableSize)) usable "
                   + "(block \(exactBytes(view.blockSize))), \(view.liveness)" + (view.freeList.map { ", in \($0)" } ?? ""))
        out.append("allocator  \(view.allocator)" + (view.arena.map { ", \($0)" } ?? ""))
        if view.offset > 0 { out.append("address    \(view.address) is at +\(view.offset)") }
        out.append("")
        out.append(wordTable(view.words, width: width))
        if UInt64(view.words.count * 8) < view.usableSize {
            out.append("… \(grouped(view.usableSize - UInt64(view.words.count * 8))) more bytes (--bytes N shows more)")
        }
        for warning in view.warnings { out.append("warning: \(warning)") }
        return out.joined(separator: "\n")
    }
}
