import Allocators
import ELFCore
import Foundation
import Regions

extension HeapCommand {
    /// Which allocator `heap` describes (see `ProcessAllocator.heapChoice`), as the one-line
    /// error the user sees when jemalloc's structures cannot be read.
    func allocatorChoice(core: CoreFile, regions: RegionMap, knownMainArena: UInt64?) throws -> ProcessAllocator.HeapChoice {
        do {
            return try ProcessAllocator.heapChoice(core: core, regions: regions, knownMainArena: knownMainArena)
        } catch let error as JemallocError {
            throw CLIError(path: options.core, message: error.description)
        }
    }

    /// jemalloc's own statistics, laid out like `malloc_stats_print`.
    func showJemalloc(_ heap: JemallocHeap, core: CoreFile, regions: RegionMap, query: UInt64?) throws {
        var report = heap.report(memory: core.addressSpace, address: query)
        report.core = core.path
        report.pymalloc = pymallocReport(core: core, regions: regions, outer: heap.allocationTable(), query: query)
        switch options.format {
        case .json: try printJSON(report, core: report.core, warnings: report.warnings)
        case .text: printText(renderJemallocHeap(report, top: top, width: options.layout.columns), width: options.layout.columns)
        }
    }

    func printNote(_ text: String) {
        HeapscanMain.stopIfInputChanged()
        FileHandle.standardError.write(Data("heapscan: note: \(text)\n".utf8))
    }
}

/// Text rendering of a jemalloc heap report, laid out like jemalloc's `malloc_stats_print`:
/// the summary line, bins by bytes (which bin holds too many regions?), large classes, caches.
func renderJemallocHeap(_ report: JemallocHeapReport, top: Int = 0, width: Int?) -> String {
    var out: [String] = []
    out.append("allocator  \(report.allocator)" + (report.version.map { " (\($0))" } ?? ""))
    if let library = report.library { out.append("library    \(library)") }
    out.append("method     \(report.method)")
    if let lookup = report.lookup {
        out.append("")
        if let start = lookup.address {
            out.append("\(lookup.query) is at offset \(grouped(lookup.offset ?? 0)) in the \((lookup.used ?? false) ? "used" : "free") region \(start)"
                       + " (\(exactBytes(lookup.size ?? 0)), \(lookup.kind ?? "?"), \(lookup.arena ?? "arena ?"))")
        } else {
            out.append("\(lookup.query) is in no jemalloc region")
        }
    }
    let totals = report.totals
    out.append("")
    out.append("Allocated: \(grouped(totals.allocated)), active: \(grouped(totals.active)), metadata (estimate): \(grouped(totals.metadataEstimate)), resident in core: \(grouped(totals.residentInCore)), mapped: \(grouped(totals.mapped)), retained: \(grouped(totals.retained)) (bytes)")
    out.append("dirty pages awaiting purge: \(humanBytes(totals.dirty)) in \(grouped(totals.dirtyExtents)) extents; muzzy: \(humanBytes(totals.muzzy)) in \(grouped(totals.muzzyExtents)) extents; retained: \(humanBytes(totals.retained)) in \(grouped(totals.retainedExtents)) extents")
    out.append("used       \(grouped(totals.usedAllocations)) allocations, \(humanBytes(totals.usedBytes)) (in use, less what thread caches hold)")
    out.append("thread caches hold \(humanBytes(totals.cachedInThreads)) (allocated for jemalloc, free for the program)")

    let bins = top > 0 ? Array(report.bins.prefix(top)) : report.bins
    out.append("")
    out.append("bins (\(grouped(report.bins.count)) in use, by bytes\(top > 0 && report.bins.count > top ? ", top \(top)" : ""))")
    var table = TextTable([.right("bin"), .right("size"), .right("regions"), .right("cached", dropRank: 2), .right("slabs"),
                           .right("regs/slab", dropRank: 1), .right("slab size"), .right("util"), .right("bytes")])
    for bin in bins {
        table.add([String(bin.bin), exactBytes(bin.size), grouped(bin.regionsInUse), grouped(bin.cachedInThreads),
                   grouped(bin.slabs), grouped(bin.regionsPerSlab), humanBytes(bin.slabSize),
                   percent(bin.utilisation), humanBytes(bin.bytes)])
    }
    out.append(table.render(width: width))

    out.append("")
    out.append("large (\(grouped(report.large.count)) size classes, \(grouped(totals.largeExtents)) extents)")
    var large = TextTable([">lextent", ">size", ">count", ">cached", ">bytes"])
    for row in report.large {
        large.add([String(row.lextent), humanBytes(row.size), grouped(row.count), grouped(row.cachedInThreads), humanBytes(row.bytes)])
    }
    out.append(large.render(width: width))

    out.append("")
    out.append("arenas (\(grouped(report.arenas.count)))")
    var arenas = TextTable([.right("arena"), .right("used"), .right("used bytes"), .right("allocated"), .right("active"),
                            .right("bins", dropRank: 2), .right("large classes", dropRank: 1)])
    for arena in report.arenas {
        arenas.add([String(arena.index), grouped(arena.usedAllocations), humanBytes(arena.usedBytes), humanBytes(arena.allocated),
                    humanBytes(arena.active), grouped(arena.bins.count), grouped(arena.large.count)])
    }
    out.append(arenas.render(width: width))

    out.append("")
    out.append("thread caches (\(grouped(report.threadCaches.count)))")
    for cache in report.threadCaches {
        let arena = cache.arena.map { ", \($0)" } ?? ""
        out.append("  thread \(cache.thread.map(String.init) ?? "?") at \(cache.address)\(arena): \(grouped(cache.count)) regions, \(humanBytes(cache.bytes))")
        guard !cache.bins.isEmpty else { continue }
        var bins = TextTable([">bin", ">size", ">count", ">capacity", ">bytes"])
        for bin in cache.bins {
            bins.add([String(bin.bin), exactBytes(bin.size), grouped(bin.count), grouped(bin.capacity), humanBytes(bin.bytes)])
        }
        out.append(bins.render(width: width, indent: "    "))
    }

    let consistency = report.consistency
    out.append("")
    out.append("checked: \(grouped(consistency.entries)) extent-map entries in \(grouped(consistency.leaves)) leaves, \(grouped(consistency.extents)) extents (\(grouped(consistency.disagreeingEntries)) entries disagree, \(grouped(consistency.rejectedExtents)) extents rejected)")
    if let pymalloc = report.pymalloc { out += renderPymalloc(pymalloc, top: top, width: width) }
    if !report.warnings.isEmpty {
        out.append("")
        out.append("warnings (\(grouped(report.warnings.count)))")
        for warning in report.warnings { out.append("  \(warning)") }
    }
    return out.joined(separator: "\n")
}
