import Allocators
import ArgumentParser
import ELFCore
import Regions

struct HeapCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan heap core.1234 --top 5", "allocator totals and the five costliest chunk sizes"),
        HelpExample("heapscan heap core.1234 --free", "also tcache, fastbins, bins and free chunks"),
        HelpExample("heapscan heap core.1234 --address 0x55d0c1a2b3c0", "the allocation holding an address"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "heap",
        abstract: "Walk the allocator (glibc malloc or jemalloc): totals, and allocations by size.")

    @OptionGroup var options: CoreOptions
    @OptionGroup var modules: ModuleOptions

    @Option(parsing: .unconditional, help: "Chunk sizes to show, largest total first (0 shows all).")
    var top: Int = 20

    @Flag(help: "Also show the free side: tcache, fastbins, bins, and free chunks by size.")
    var free = false

    @Option(help: "Show the allocation containing this address (0x… or decimal).")
    var address: String?

    func run() throws {
        guard top >= 0 else { throw CLIError(path: nil, message: "--top must be 0 or more") }
        var query: UInt64?
        if let address {
            guard let value = RegionSelection.parseNumber(address) else {
                throw CLIError(path: nil, message: "bad address '\(address)' (use 0x… or a decimal number)")
            }
            query = value
        }
        let core = try options.open()
        let regions = RegionMap(core: core)
        // libc's main_arena symbol when debuginfo has it; the walker checks it and otherwise
        // finds main_arena by its shape.
        let mainArena = GlibcHeap.mainArenaSymbol(in: try modules.load(core))
        var walked: GlibcHeapResult?
        switch try allocatorChoice(core: core, regions: regions, knownMainArena: mainArena) {
        case .jemalloc(let heap, let note):
            if let note { printNote(note) }
            try showJemalloc(heap, core: core, regions: regions, query: query)
            return
        case .glibc(let result, let note):
            if let note { printNote(note) }
            walked = result
        }
        let result = walked ?? GlibcHeap.walk(core: core, regions: regions, knownMainArena: mainArena)
        guard !result.arenas.isEmpty || !result.table.allocations.isEmpty else {
            throw CLIError(path: core.path, message: "no malloc heap found (neither jemalloc nor glibc arenas recognised)"
                           + (result.warnings.first.map { ": \($0)" } ?? ""))
        }
        var report = HeapReport(result: result, top: top, includeFree: free, address: query, coreWarnings: core.warnings)
        report.core = core.path
        report.pymalloc = pymallocReport(core: core, regions: regions, outer: result.table, query: query)
        switch options.format {
        case .json: try printJSON(report, core: report.core, warnings: report.warnings)
        case .text: printText(render(report, width: options.layout.columns), width: options.layout.columns)
        }
    }

    private func render(_ report: HeapReport, width: Int?) -> String {
        var out: [String] = []
        out.append("allocator  \(report.allocator), \(report.method)"
                   + (report.safeLinking.map { $0 ? ", safe-linking" : ", no safe-linking" } ?? ""))
        if let lookup = report.lookup {
            out.append("")
            if lookup.found, let start = lookup.address {
                out.append("\(lookup.query) is at offset \(grouped(lookup.offset ?? 0)) in the \((lookup.used ?? false) ? "used" : "free") allocation \(start)"
                           + " (usable \(exactBytes(lookup.usableSize ?? 0)), chunk \(exactBytes(lookup.chunkSize ?? 0)), \(lookup.arena ?? "?"))")
            } else {
                out.append("\(lookup.query) is in no allocation")
            }
        }
        out.append("")
        out.append("arenas (\(grouped(report.arenas.count)))")
        var arenas = TextTable([.left("arena"), .right("heaps", dropRank: 3), .right("system"), .left("top", dropRank: 1),
                                .right("top size", dropRank: 2), .right("used"), .right("used bytes"), .right("free"), .right("free bytes")])
        for arena in report.arenas {
            arenas.add([arena.arena, grouped(arena.heaps.count), humanBytes(arena.systemBytes), arena.top,
                        humanBytes(arena.topSize), grouped(arena.usedAllocations), humanBytes(arena.usedBytes),
                        grouped(arena.freeChunks), humanBytes(arena.freeBytes)])
        }
        out.append(arenas.render(width: width))
        out.append("")
        let totals = report.totals
        out.append("used      \(grouped(totals.usedAllocations)) allocations, \(humanBytes(totals.usedBytes)) in chunks (\(humanBytes(totals.usableBytes)) usable)")
        out.append("free      \(grouped(totals.freeChunks)) chunks, \(humanBytes(totals.freeBytes)) (top chunks not counted)")
        out.append("mmapped   \(grouped(totals.mmappedChunks)) chunks, \(humanBytes(totals.mmappedBytes)) (counted in used)")
        out.append("overhead  \(humanBytes(totals.overheadBytes)) (chunk headers and malloc's own structures)")
        out.append("system    \(humanBytes(totals.systemBytes)) from the kernel (arenas \(humanBytes(report.mallinfo.arena)) + mmapped)")
        let info = report.mallinfo
        out.append("mallinfo2 arena \(info.arena) uordblks \(info.uordblks) fordblks \(info.fordblks) ordblks \(info.ordblks)"
                   + " smblks \(info.smblks) fsmblks \(info.fsmblks) hblks \(info.hblks) hblkhd \(info.hblkhd) keepcost \(info.keepcost)")
        out.append("")
        out.append("used allocations by chunk size (\(grouped(report.sizes.count)) of \(grouped(report.distinctSizes)) sizes, by bytes)")
        out.append(sizeTable(report.sizes, width: width))
        if let free = report.free {
            out.append("")
            out.append("free side")
            var kinds = TextTable(["where", ">chunks", ">bytes"])
            kinds.add(["tcache", grouped(free.tcacheChunks), humanBytes(free.tcacheBytes)])
            kinds.add(["fastbins", grouped(free.fastbinChunks), humanBytes(free.fastbinBytes)])
            kinds.add(["unsorted bin", grouped(free.unsortedChunks), humanBytes(free.unsortedBytes)])
            kinds.add(["small bins", grouped(free.smallbinChunks), humanBytes(free.smallbinBytes)])
            kinds.add(["large bins", grouped(free.largebinChunks), humanBytes(free.largebinBytes)])
            kinds.add(["top", grouped(free.topChunks), humanBytes(free.topBytes)])
            out.append(kinds.render(width: width))
            if !free.tcaches.isEmpty {
                out.append("")
                out.append("tcaches (\(grouped(free.tcaches.count)))")
                var tcaches = TextTable(["tcache", ">thread", ">chunks", ">bytes"])
                for tcache in free.tcaches {
                    tcaches.add([tcache.address, tcache.thread.map(String.init) ?? "?", grouped(tcache.chunks), humanBytes(tcache.bytes)])
                }
                out.append(tcaches.render(width: width))
            }
            out.append("")
            out.append("free chunks by size")
            out.append(sizeTable(free.sizes, width: width))
        }
        if let pymalloc = report.pymalloc { out += renderPymalloc(pymalloc, top: top, width: width) }
        if !report.warnings.isEmpty {
            out.append("")
            out.append("warnings (\(grouped(report.warnings.count)))")
            for warning in report.warnings { out.append("  \(warning)") }
        }
        return out.joined(separator: "\n")
    }

    private func sizeTable(_ rows: [HeapReport.SizeRow], width: Int?) -> String {
        var table = TextTable([">chunk size", ">count", ">bytes", ">share"])
        for row in rows {
            table.add([exactBytes(row.chunkSize), grouped(row.count), humanBytes(row.bytes),
                       String(format: "%.1f%%", row.share * 100)])
        }
        return table.render(width: width)
    }
}
