import Allocators
import ELFCore
import Regions

extension HeapCommand {
    /// pymalloc's part of `heap` on a CPython core (nil for other programs); `outer` is the
    /// process's malloc table, which says whether arenas lie inside its blocks.
    func pymallocReport(core: CoreFile, regions: RegionMap, outer: AllocationTable, query: UInt64?) -> PymallocReport? {
        PymallocHeap.read(core: core, regions: regions).map { PymallocReport(heap: $0, outer: outer, address: query) }
    }
}

/// The pymalloc part of `heap` on a CPython core: how it was found, where its arenas live
/// (mappings of their own, or inside malloc blocks), totals, and size classes by bytes.
func renderPymalloc(_ report: PymallocReport, top: Int, width: Int?) -> [String] {
    var out: [String] = [""]
    out.append("allocator  \(report.allocator), \(report.interpreter)")
    out.append("method     \(report.method)")
    let totals = report.totals
    guard totals.arenas > 0 else {
        return out + report.warnings.map { "           \($0)" }
    }
    let inside = totals.arenasInsideMallocBlocks
    let placement = inside == 0 ? "each a mapping of its own"
        : inside == totals.arenas ? "each inside a malloc block (listed in place of that block)"
        : "\(grouped(inside)) inside malloc blocks (listed in place of those blocks), the rest mappings of their own"
    out.append("arenas     \(grouped(totals.arenas)) of \(humanBytes(report.arenaSize)), \(placement); pools of \(humanBytes(report.poolSize))")
    if let lookup = report.lookup {
        out.append("")
        out.append("\(lookup.query) is at offset \(grouped(lookup.offset)) in the \(lookup.used ? "used" : "free") pymalloc block \(lookup.address)"
                   + " (\(exactBytes(lookup.blockSize)), \(lookup.arena))")
    }
    out.append("")
    out.append("used       \(grouped(totals.usedBlocks)) blocks, \(humanBytes(totals.usedBytes)) in \(grouped(totals.usedPools)) pools (and \(grouped(totals.emptyPools)) emptied pools)")
    out.append("available  \(grouped(totals.availableBlocks)) blocks in those pools")
    out.append("")
    let rows = top > 0 ? Array(report.sizeClasses.prefix(top)) : report.sizeClasses
    out.append("size classes (\(grouped(rows.count)) of \(grouped(report.sizeClasses.count)) in use, by bytes)")
    var table = TextTable([">class", ">size", ">pools", ">used", ">available", ">bytes"])
    for row in rows {
        table.add([String(row.sizeClass), exactBytes(row.blockSize), grouped(row.pools), grouped(row.usedBlocks),
                   grouped(row.availableBlocks), humanBytes(row.usedBytes)])
    }
    out.append(table.render(width: width))
    if !report.warnings.isEmpty {
        out.append("")
        out.append("pymalloc warnings (\(grouped(report.warnings.count)))")
        for warning in report.warnings { out.append("  \(warning)") }
    }
    return out
}
