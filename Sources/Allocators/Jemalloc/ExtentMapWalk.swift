import ELFCore
import ScanKernels

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

    /// jemalloc's structures are trusted when at most 1 entry in 20 disagrees, or (a small heap,
    /// where one damaged word is more than 1 in 20) at most 2 do and 4 times as many agree.
    public var isTrustworthy: Bool {
        let agreeing = entries - disagreeingEntries
        return entries > 0 && (disagreeingEntries * 20 <= entries
            || (disagreeingEntries <= 2 && agreeing >= 4 * disagreeingEntries))
    }
}

/// Walks every root slot and leaf of the extent map and reads each extent header once,
/// cross-checking leaf entries against `e_bits`, slab bitmaps against `nfree`, and page coverage.
struct ExtentMapWalk {
    let levels: ExtentMapLevels
    let classes: JemallocSizeClasses
    var memory: AddressSpace { levels.memory }

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

    /// Walks the leaves the root names, plus `votedLeaves` (leaf, root index) whose root slot is
    /// cleared or damaged. `root` 0 means no root was found: the voted leaves alone are walked.
    func walk(root: UInt64, votedLeaves: [(address: UInt64, rootIndex: Int)] = []) -> Result {
        var result = Result()
        let pageSize = classes.pageSize
        let cleared = UInt64(classes.count) << JemallocLayout.addressBits
        var entries: [MapEntry] = []
        var slots: ExtentMapLevel?
        if root != 0 {
            slots = levels.level(at: root)
            if slots == nil {
                result.warnings.append("extent-map root \(hex(root)) is not in the core; only the leaves the vote found are walked")
            }
        }
        let leaves = chooseLeaves(slots: slots, votedLeaves: votedLeaves, warnings: &result.warnings)
        let progress = ProgressLine(total: UInt64(leaves.count * JemallocLayout.leafBytes), label: "reading the jemalloc extent map")
        defer { progress.finish() }
        for (index, leaf) in leaves {
            progress.advance(UInt64(JemallocLayout.leafBytes))
            result.consistency.leaves += 1
            result.leafAddresses.append(leaf)
            guard let leafBytes = levels.level(at: leaf) else {
                result.consistency.leavesNotInCore += 1
                result.warnings.append("extent-map leaf \(hex(leaf)) for \(hex(UInt64(index) << 30))… is not in the core; its extents are missing")
                continue
            }
            let high = UInt64(index) << 30
            leafBytes.forEachNonzeroWord { leafIndex, raw in
                if raw == cleared { return true }
                let page = high | UInt64(leafIndex) << 12
                entries.append(MapEntry(edata: raw & JemallocLayout.edataPointerMask, page: page, raw: raw))
                return true
            }
        }
        result.consistency.entries = entries.count
        entries.sort { $0.edata != $1.edata ? $0.edata < $1.edata : $0.page < $1.page }

        var examples: [String] = []
        func note(_ text: String) { if examples.count < 8 { examples.append(text) } }
        var candidates: [(extent: JemallocExtent, complete: Bool)] = []
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
            candidates.append(extent)
        }
        result.extents = disjoint(&candidates, consistency: &result.consistency, note: note)
        let c = result.consistency
        if c.disagreeingEntries > 0 || c.rejectedExtents > 0 || c.incompleteCoverage > 0 {
            result.warnings.append("extent map: \(c.disagreeingEntries) of \(c.entries) entries disagree with their extent headers, \(c.rejectedExtents) of \(c.extents) extents rejected, \(c.incompleteCoverage) with incomplete page coverage")
            result.warnings += examples.map { "  " + $0 }
        }
        return result
    }

    /// Which leaf each root index is walked with. A leaf is walked once: when several slots
    /// name it (a duplicated slot), the slot its entries' extents lie under is kept. A leaf that
    /// overlaps one already taken is no leaf (real leaves are separate allocations), which also
    /// bounds the bytes read by the core's size. A voted leaf that no slot names is walked at
    /// its voted index when that slot is empty or names no readable leaf (a cleared slot).
    private func chooseLeaves(slots: ExtentMapLevel?, votedLeaves: [(address: UInt64, rootIndex: Int)],
                              warnings: inout [String]) -> [(index: Int, leaf: UInt64)] {
        var slotsOfLeaf: [UInt64: [Int]] = [:]
        slots?.forEachNonzeroWord { index, leaf in
            slotsOfLeaf[leaf, default: []].append(index)
            return true
        }
        var chosen: [(index: Int, leaf: UInt64)] = []
        for (leaf, indices) in slotsOfLeaf {
            guard indices.count > 1 else {
                chosen.append((indices[0], leaf))
                continue
            }
            let voted = votedLeaves.first { $0.address == leaf && indices.contains($0.rootIndex) }?.rootIndex
            let index = voted ?? rootIndexByEntries(leaf: leaf, among: indices) ?? indices[0]
            warnings.append("extent-map leaf \(hex(leaf)) is named by \(indices.count) root slots; walked once, as slot \(index) (where its extents lie)")
            chosen.append((index, leaf))
        }
        for voted in votedLeaves where slotsOfLeaf[voted.address] == nil && voted.rootIndex < JemallocLayout.entriesPerLevel {
            let current = slots?.word(voted.rootIndex) ?? 0
            // Words that merely collect votes (copies, arrays) are not taken for a leaf: nearly
            // all of a real leaf's entries name extents under its index.
            let votes = rootIndexVotes(leaf: voted.address)
            let sampled = votes.values.reduce(0, +)
            guard current == 0 || memory.read(current, count: 8) == nil,
                  sampled > 0, (votes[voted.rootIndex] ?? 0) * 10 >= sampled * 9 else { continue }
            chosen.removeAll { $0.index == voted.rootIndex }
            warnings.append("extent-map root slot \(voted.rootIndex) holds \(hex(current)), not the leaf \(hex(voted.address)) the vote found for it; that leaf is walked in its place")
            chosen.append((voted.rootIndex, voted.address))
        }
        chosen.sort { $0.leaf < $1.leaf }
        var separate: [(index: Int, leaf: UInt64)] = []
        var overlapping = 0
        for entry in chosen {
            if let last = separate.last, entry.leaf &- last.leaf < UInt64(JemallocLayout.leafBytes) {
                overlapping += 1
                continue
            }
            separate.append(entry)
        }
        if overlapping > 0 {
            warnings.append("\(overlapping) extent-map root slots name leaves overlapping another leaf; skipped")
        }
        return separate.sorted { $0.index < $1.index }
    }

    /// The root index (among `indices`) that most of the first entries of `leaf` agree with:
    /// each entry's extent header gives the address its page lies at.
    private func rootIndexByEntries(leaf: UInt64, among indices: [Int]) -> Int? {
        let votes = rootIndexVotes(leaf: leaf)
        return votes.filter { indices.contains($0.key) }.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key
    }

    /// For up to 64 of `leaf`'s entries, the root index their extent's address lies under.
    private func rootIndexVotes(leaf: UInt64) -> [Int: Int] {
        guard let level = levels.level(at: leaf) else { return [:] }
        var votes: [Int: Int] = [:]
        var sampled = 0
        level.forEachNonzeroWord { _, raw in
            let edata = raw & JemallocLayout.edataPointerMask
            guard edata != 0, let address = memory.readU64(edata &+ JemallocLayout.addressOffset) else { return true }
            sampled += 1
            votes[Int((address >> 30) & 0x3ffff), default: 0] += 1
            return sampled < 64
        }
        return votes
    }

    /// Extents sorted by base with overlaps removed. Two overlapping extents mean one header
    /// lies; the one the map covers completely, then the active one, then the smaller one is
    /// believed, so one bogus extent (say a free one whose size grew) costs itself only, not the
    /// real extents it claims to cover.
    private func disjoint(_ candidates: inout [(extent: JemallocExtent, complete: Bool)],
                          consistency: inout JemallocConsistency, note: (String) -> Void) -> [JemallocExtent] {
        candidates.sort { $0.extent.base < $1.extent.base }
        func trusted(_ a: (extent: JemallocExtent, complete: Bool), over b: (extent: JemallocExtent, complete: Bool)) -> Bool {
            if a.complete != b.complete { return a.complete }
            if (a.extent.state == .active) != (b.extent.state == .active) { return a.extent.state == .active }
            return a.extent.size < b.extent.size
        }
        var kept: [(extent: JemallocExtent, complete: Bool)] = []
        for candidate in candidates {
            var admitted = true
            while let last = kept.last, candidate.extent.base < last.extent.end {
                let (loser, winner) = trusted(candidate, over: last) ? (last, candidate) : (candidate, last)
                consistency.rejectedExtents += 1
                note("extent \(hex(loser.extent.base)) (edata \(hex(loser.extent.edata)), \(loser.extent.size) bytes) overlaps the extent at \(hex(winner.extent.base)); dropped")
                guard winner.extent.edata == candidate.extent.edata else {
                    admitted = false
                    break
                }
                kept.removeLast()
            }
            if admitted { kept.append(candidate) }
        }
        return kept.map(\.extent)
    }

    /// The extent `group`'s entries name, and whether the map covers it completely (every page
    /// of a slab, both ends of another extent).
    private func readExtent(_ group: ArraySlice<MapEntry>, pageSize: UInt64, consistency: inout JemallocConsistency,
                            note: (String) -> Void) -> (extent: JemallocExtent, complete: Bool)? {
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
        let (end, wrapped) = base.addingReportingOverflow(size)
        // No extent reaches past the user address space; a size that does is damage.
        let overflow = wrapped || end > JemallocLayout.addressMask &+ 1
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
        let complete: Bool
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
            complete = agreeing == Int(size / pageSize)
        } else if state == .active {
            // A profiled process promotes each sampled small allocation to an extent of the
            // smallest large class while keeping its small class in the header and the map.
            guard let sizeClass = classes[bits.sizeIndex],
                  let extentClass = sizeClass.isBin ? classes[classes.binCount] : sizeClass, !extentClass.isBin,
                  extentClass.size <= size, size - extentClass.size <= pageSize, address &- base < pageSize else {
                note("large edata \(hex(edata)) at \(hex(address)): class \(bits.sizeIndex) does not fit \(size) bytes")
                return nil
            }
            complete = firstPage && lastPage
        } else {
            complete = firstPage && lastPage
        }
        if !complete { consistency.incompleteCoverage += 1 }
        let extent = JemallocExtent(edata: edata, arena: bits.arena, state: state, isSlab: bits.isSlab,
                                    sizeIndex: bits.sizeIndex, base: base, address: address, size: size,
                                    freeCount: bits.freeCount, freeBitmap: bitmap)
        return (extent, complete)
    }
}
