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
    func showJemalloc(_ heap: JemallocHeap, core: CoreFile, query: UInt64?) throws {
        var report = heap.report(memory: core.addressSpace, address: query)
        report.core = core.path
        switch options.format {
        case .json: try printJSON(report)
        case .text: print(renderJemallocHeap(report, top: top))
        }
    }

    func printNote(_ text: String) {
        FileHandle.standardError.write(Data("heapscan: note: \(text)\n".utf8))
    }
}

/// Text rendering of a jemalloc heap report, laid out like jemalloc's `malloc_stats_print`:
/// the summary line, bins by bytes (which bin holds too many regions?), large classes, caches.
func renderJemallocHeap(_ report: JemallocHeapReport, top: Int = 0) -> String {
    var out: [String] = []
    out.append("allocator  \(report.allocator)" + (report.version.map { " (\($0))" } ?? ""))
    if let library = report.library { out.append("library    \(library)") }
    out.append("method     \(report.method)")
    if let lookup = report.lookup {
        out.append("")
        if let start = lookup.address {
            out.append("\(lookup.query) is at offset \(lookup.offset ?? 0) in the \((lookup.used ?? false) ? "used" : "free") region \(start)"
                       + " (\(lookup.size ?? 0) B, \(lookup.kind ?? "?"), arena \(lookup.arena.map(String.init) ?? "?"))")
        } else {
            out.append("\(lookup.query) is in no jemalloc region")
        }
    }
    let totals = report.totals
    out.append("")
    out.append("Allocated: \(totals.allocated), active: \(totals.active), metadata (estimate): \(totals.metadataEstimate), resident in core: \(totals.residentInCore), mapped: \(totals.mapped), retained: \(totals.retained)")
    out.append("dirty pages awaiting purge: \(humanBytes(totals.dirty)) in \(totals.dirtyExtents) extents; muzzy: \(humanBytes(totals.muzzy)) in \(totals.muzzyExtents) extents; retained: \(humanBytes(totals.retained)) in \(totals.retainedExtents) extents")
    out.append("thread caches hold \(humanBytes(totals.cachedInThreads)) (allocated for jemalloc, free for the program)")

    let bins = top > 0 ? Array(report.bins.prefix(top)) : report.bins
    out.append("")
    out.append("bins (\(report.bins.count) in use, by bytes\(top > 0 && report.bins.count > top ? ", top \(top)" : ""))")
    var table = TextTable([">bin", ">size", ">regions", ">cached", ">slabs", ">regs/slab", ">slab size", ">util", ">bytes"])
    for bin in bins {
        table.add([String(bin.bin), String(bin.size), String(bin.regionsInUse), String(bin.cachedInThreads),
                   String(bin.slabs), String(bin.regionsPerSlab), humanBytes(bin.slabSize),
                   percent(bin.utilisation), humanBytes(bin.bytes)])
    }
    out.append(table.render())

    out.append("")
    out.append("large (\(report.large.count) size classes, \(totals.largeExtents) extents)")
    var large = TextTable([">lextent", ">size", ">count", ">cached", ">bytes"])
    for row in report.large {
        large.add([String(row.lextent), humanBytes(row.size), String(row.count), String(row.cachedInThreads), humanBytes(row.bytes)])
    }
    out.append(large.render())

    out.append("")
    out.append("arenas (\(report.arenas.count))")
    var arenas = TextTable([">arena", ">allocated", ">active", ">bins", ">large classes"])
    for arena in report.arenas {
        arenas.add([String(arena.index), humanBytes(arena.allocated), humanBytes(arena.active),
                    String(arena.bins.count), String(arena.large.count)])
    }
    out.append(arenas.render())

    out.append("")
    out.append("thread caches (\(report.threadCaches.count))")
    for cache in report.threadCaches {
        let arena = cache.arena.map { ", arena \($0)" } ?? ""
        out.append("  thread \(cache.thread.map(String.init) ?? "?") at \(cache.address)\(arena): \(cache.count) regions, \(humanBytes(cache.bytes))")
        guard !cache.bins.isEmpty else { continue }
        var bins = TextTable([">bin", ">size", ">count", ">capacity", ">bytes"])
        for bin in cache.bins {
            bins.add([String(bin.bin), String(bin.size), String(bin.count), String(bin.capacity), humanBytes(bin.bytes)])
        }
        out.append(bins.render(indent: "    "))
    }

    let consistency = report.consistency
    out.append("")
    out.append("checked: \(consistency.entries) extent-map entries in \(consistency.leaves) leaves, \(consistency.extents) extents (\(consistency.disagreeingEntries) entries disagree, \(consistency.rejectedExtents) extents rejected)")
    if !report.warnings.isEmpty {
        out.append("")
        out.append("warnings (\(report.warnings.count))")
        for warning in report.warnings { out.append("  \(warning)") }
    }
    return out.joined(separator: "\n")
}
