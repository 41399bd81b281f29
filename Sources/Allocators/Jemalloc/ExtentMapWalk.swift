import ELFCore

/// How well the extent map and the extent headers agreed.
public struct JemallocConsistency: Sendable, Codable, Equatable {
    /// Non-empty leaf entries read, and how many disagreed with the `edata_t` they point at.
    public var entries = 0
    public var disagreeingEntries = 0
    /// Distinct extents the entries point at, and how many were rejected.
    public var extents = 0
    public var rejectedExtents = 0
    /// Extents whose pages are not all (slabs) or not both ends (others) in the map.
    public var incompleteCoverage = 0
    public var leaves = 0
    public var leavesNotInCore = 0

    /// jemalloc's structures are trusted when at most 1 entry in 20 disagrees.
    public var isTrustworthy: Bool { entries > 0 && disagreeingEntries * 20 <= entries }
}

/// Walks every root slot and leaf of the extent map and reads each extent header once,
/// cross-checking leaf entries against `e_bits`, slab bitmaps against `nfree`, and page coverage.
struct ExtentMapWalk {
    let memory: AddressSpace
    let classes: JemallocSizeClasses

    struct Result {
        var extents: [JemallocExtent] = []
        var consistency = JemallocConsistency()
        var leafAddresses: [UInt64] = []
        var warnings: [String] = []
    }

    private struct MapEntry {
        let edata: UInt64
        let page: UInt64
        let raw: UInt64
    }

    func walk(root: UInt64) -> Result {
        var result = Result()
        let pageSize = classes.pageSize
        let cleared = UInt64(classes.count) << JemallocLayout.addressBits
        var entries: [MapEntry] = []
        guard let rootBytes = memory.read(root, count: JemallocLayout.leafBytes) else {
            result.warnings.append("extent-map root \(hex(root)) is not in the core")
            return result
        }
        let slots = rootBytes.withUnsafeBytes { bytes in
            (0..<JemallocLayout.entriesPerLevel).map { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        }
        for (rootIndex, leaf) in slots.enumerated() where leaf != 0 {
            result.consistency.leaves += 1
            result.leafAddresses.append(leaf)
            // Read, not viewed: a leaf may straddle two mappings that the core keeps apart.
            guard let leafBytes = memory.read(leaf, count: JemallocLayout.leafBytes) else {
                result.consistency.leavesNotInCore += 1
                result.warnings.append("extent-map leaf \(hex(leaf)) for \(hex(UInt64(rootIndex) << 30))… is not in the core; its extents are missing")
                continue
            }
            let high = UInt64(rootIndex) << 30
            leafBytes.withUnsafeBytes { view in
                for leafIndex in 0..<JemallocLayout.entriesPerLevel {
                    let raw = UInt64(littleEndian: view.loadUnaligned(fromByteOffset: leafIndex * 8, as: UInt64.self))
                    if raw == 0 || raw == cleared { continue }
                    let page = high | UInt64(leafIndex) << 12
                    entries.append(MapEntry(edata: raw & JemallocLayout.edataPointerMask, page: page, raw: raw))
                }
            }
        }
        result.consistency.entries = entries.count
        entries.sort { $0.edata != $1.edata ? $0.edata < $1.edata : $0.page < $1.page }

        var examples: [String] = []
        func note(_ text: String) { if examples.count < 8 { examples.append(text) } }
        var start = 0
        while start < entries.count {
            var end = start + 1
            while end < entries.count && entries[end].edata == entries[start].edata { end += 1 }
            let group = entries[start..<end]
            start = end
            result.consistency.extents += 1
            guard let extent = readExtent(group, pageSize: pageSize, consistency: &result.consistency, note: note) else {
                result.consistency.rejectedExtents += 1
                continue
            }
            result.extents.append(extent)
        }
        result.extents.sort { $0.base < $1.base }
        // Overlapping extents mean one header lies; drop the later one rather than count twice.
        var disjoint: [JemallocExtent] = []
        disjoint.reserveCapacity(result.extents.count)
        for extent in result.extents {
            if let last = disjoint.last, extent.base < last.end {
                result.consistency.rejectedExtents += 1
                note("extent \(hex(extent.base)) (edata \(hex(extent.edata))) overlaps the extent at \(hex(last.base))")
                continue
            }
            disjoint.append(extent)
        }
        result.extents = disjoint
        let c = result.consistency
        if c.disagreeingEntries > 0 || c.rejectedExtents > 0 || c.incompleteCoverage > 0 {
            result.warnings.append("extent map: \(c.disagreeingEntries) of \(c.entries) entries disagree with their extent headers, \(c.rejectedExtents) of \(c.extents) extents rejected, \(c.incompleteCoverage) with incomplete page coverage")
            result.warnings += examples.map { "  " + $0 }
        }
        return result
    }

    private func readExtent(_ group: ArraySlice<MapEntry>, pageSize: UInt64, consistency: inout JemallocConsistency,
                            note: (String) -> Void) -> JemallocExtent? {
        let edata = group.first!.edata
        guard let header = memory.read(edata, count: JemallocLayout.edataSize) else {
            consistency.disagreeingEntries += group.count
            note("edata \(hex(edata)) named by \(group.count) map entries is not in the core")
            return nil
        }
        func word(_ offset: UInt64) -> UInt64 {
            header.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self)) }
        }
        let bits = EdataBits(raw: word(JemallocLayout.bitsOffset))
        let address = word(JemallocLayout.addressOffset)
        let size = word(JemallocLayout.sizeOffset) & ~(pageSize - 1)
        let base = address & ~(pageSize - 1)
        let (end, overflow) = base.addingReportingOverflow(size)
        var agreeing = 0
        var firstPage = false
        var lastPage = false
        for entry in group {
            let inside = !overflow && entry.page >= base && entry.page < end
            let leaf = LeafEntry(raw: entry.raw)
            // jemalloc writes a large extent's class only into its first page's entry; the last
            // page keeps the "no class" it was registered with.
            let largeTail = inside && entry.page != base && !bits.isSlab && !leaf.isSlab
                && leaf.sizeIndex == classes.count && leaf.state == bits.state && bits.hasValidHighBits
            if inside && (bits.agrees(with: leaf) || largeTail) {
                agreeing += 1
                if entry.page == base { firstPage = true }
                if entry.page == end &- pageSize { lastPage = true }
            } else {
                consistency.disagreeingEntries += 1
                note("map entry \(hex(entry.raw)) for page \(hex(entry.page)) disagrees with edata \(hex(edata)) (e_bits \(hex(bits.raw)), \(hex(base))+\(size))")
            }
        }
        guard agreeing > 0, size > 0, !overflow, let state = JemallocExtentState(rawValue: bits.state) else { return nil }

        var bitmap: [UInt64] = []
        if state == .active && bits.isSlab {
            guard let sizeClass = classes[bits.sizeIndex], sizeClass.isBin,
                  size == UInt64(sizeClass.slabPages) * pageSize, address == base,
                  bits.freeCount <= sizeClass.regionsPerSlab else {
                note("slab edata \(hex(edata)) at \(hex(address)): class \(bits.sizeIndex), \(size) bytes, nfree \(bits.freeCount) do not fit its size class")
                return nil
            }
            bitmap = (0..<JemallocLayout.bitmapWords).map { word(JemallocLayout.bitmapOffset + UInt64($0) * 8) }
            let regions = sizeClass.regionsPerSlab
            // Only ceil(regions / 64) words belong to this slab; later ones are stale.
            bitmap.removeLast(JemallocLayout.bitmapWords - (regions + 63) / 64)
            var free = 0
            for (index, value) in bitmap.enumerated() {
                let first = index * 64
                let valid: UInt64 = regions - first >= 64 ? ~0 : (UInt64(1) << UInt64(regions - first)) - 1
                guard value & ~valid == 0 else {
                    note("slab \(hex(address)): bitmap word \(index) has bits past region \(regions)")
                    return nil
                }
                free += value.nonzeroBitCount
            }
            guard free == bits.freeCount else {
                note("slab \(hex(address)): bitmap has \(free) free regions, nfree says \(bits.freeCount)")
                return nil
            }
            if agreeing != Int(size / pageSize) { consistency.incompleteCoverage += 1 }
        } else if state == .active {
            guard let sizeClass = classes[bits.sizeIndex], !sizeClass.isBin, sizeClass.size <= size,
                  size - sizeClass.size <= pageSize, address - base < pageSize else {
                note("large edata \(hex(edata)) at \(hex(address)): class \(bits.sizeIndex) does not fit \(size) bytes")
                return nil
            }
            if !(firstPage && lastPage) { consistency.incompleteCoverage += 1 }
        } else {
            if !(firstPage && lastPage) { consistency.incompleteCoverage += 1 }
        }
        return JemallocExtent(edata: edata, arena: bits.arena, state: state, isSlab: bits.isSlab,
                              sizeIndex: bits.sizeIndex, base: base, address: address, size: size,
                              freeCount: bits.freeCount, freeBitmap: bitmap)
    }
}
