import ELFCore

/// Where the extent map (jemalloc's `arena_emap_global.rtree`) is, found without symbols.
struct ExtentMapLocation: Sendable {
    /// Address of `root[0]`: 2^18 slots, each 0 or the address of a leaf; 0 when no root slot
    /// holds a voted leaf (a damaged root), and the voted leaves are all there is.
    let root: UInt64
    /// Leaves the vote found, with their votes (the strongest first) and the root index their
    /// voters' extents lie under.
    let votedLeaves: [(address: UInt64, votes: Int, rootIndex: Int)]
    /// Candidate words checked against their edata, and how many agreed.
    let candidates: Int
    let agreeing: Int
}

/// Finds the extent map by voting (see the measured facts): each word of writable
/// memory that decodes as a leaf entry whose `edata_t` agrees with it votes for the leaf base it
/// would belong to if it were the entry of its extent's first page. Real leaves collect one
/// vote per extent; everything else scatters. The winning leaf's address is stored in exactly
/// one root slot, whose index the voters' addresses give, and that locates the root.
struct ExtentMapSearch {
    let levels: ExtentMapLevels
    let sizeCount: Int
    var memory: AddressSpace { levels.memory }

    enum Failure: Error {
        case noLeaf(candidates: Int)
        case looksLikeVersion52(agreeing: Int, agreeing52: Int)
    }

    private struct EdataSummary {
        let bits: EdataBits
        let address: UInt64
    }

    func locate(preferredRanges: [ClosedRange<UInt64>]) throws -> ExtentMapLocation {
        var votes: [UInt64: Int] = [:]
        var rootIndexOfLeaf: [UInt64: Int] = [:]
        var cache: [UInt64: EdataSummary?] = [:]
        var candidates = 0
        var agreeing = 0
        var agreeing52 = 0
        let sizeCount = self.sizeCount
        let memory = self.memory

        func summary(_ edata: UInt64) -> EdataSummary? {
            if let cached = cache[edata] { return cached }
            var result: EdataSummary?
            if let bits = memory.readU64(edata + JemallocLayout.bitsOffset),
               let address = memory.readU64(edata + JemallocLayout.addressOffset) {
                result = EdataSummary(bits: EdataBits(raw: bits), address: address)
            }
            cache[edata] = result
            return result
        }

        for segment in memory.segments where segment.permissions.contains(.write) && segment.presentSize >= 8 {
            guard segment.start & 7 == 0 else { continue }
            let bytes = segment.bytes
            let start = segment.start
            LeafEntryScan.scan(bytes, sizeCount: sizeCount) { offset in
                let entry = LeafEntry(raw: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                candidates += 1
                guard let edata = summary(entry.edata) else { return }
                if edata.bits.agreesAsVersion52(with: entry) && !edata.bits.agrees(with: entry) { agreeing52 += 1 }
                guard edata.bits.agrees(with: entry) else { return }
                agreeing += 1
                let page = edata.address >> 12
                let (leaf, overflow) = (start + UInt64(offset)).subtractingReportingOverflow(8 * (page & 0x3ffff))
                guard !overflow else { return }
                votes[leaf, default: 0] += 1
                if rootIndexOfLeaf[leaf] == nil { rootIndexOfLeaf[leaf] = Int((page >> 18) & 0x3ffff) }
            }
        }

        // Headers that agree far more often in 5.1/5.2's layout than in 5.3's are not 5.3's.
        if agreeing52 > 8 && agreeing52 > agreeing * 4 {
            throw Failure.looksLikeVersion52(agreeing: agreeing, agreeing52: agreeing52)
        }
        let ranked = votes.filter { $0.value >= 2 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        guard let best = ranked.first else { throw Failure.noLeaf(candidates: candidates) }
        // A leaf is real when its votes stand out; keep those within a factor of the best.
        let strong = ranked.prefix(64).filter { $0.value * 8 >= best.value || $0.value >= 16 }
        // The strongest candidate that a root slot holds is a leaf; a candidate no root holds
        // (an array that happens to collect votes) is passed over.
        for candidate in ranked.prefix(8) {
            let others = strong.filter { $0.key != candidate.key }.compactMap { entry in
                rootIndexOfLeaf[entry.key].map { (entry.key, $0) }
            }
            if let root = findRoot(leaf: candidate.key, rootIndex: rootIndexOfLeaf[candidate.key] ?? 0,
                                   others: others, preferredRanges: preferredRanges) {
                return ExtentMapLocation(root: root, votedLeaves: strong.map { ($0.key, $0.value, rootIndexOfLeaf[$0.key] ?? 0) },
                                         candidates: candidates, agreeing: agreeing)
            }
        }
        // No root slot holds any strong leaf: the root may be damaged or cleared while its
        // leaves are intact. The caller walks the voted leaves and decides by their consistency.
        return ExtentMapLocation(root: 0, votedLeaves: strong.map { ($0.key, $0.value, rootIndexOfLeaf[$0.key] ?? 0) },
                                 candidates: candidates, agreeing: agreeing)
    }

    /// The root holding `leaf` at slot `rootIndex`: searched in jemalloc's own module first
    /// (its .bss holds the root), then in all writable memory. Among several places holding the
    /// value, the one that also holds the most other voted leaves at their slots wins.
    private func findRoot(leaf: UInt64, rootIndex: Int, others: [(UInt64, Int)],
                          preferredRanges: [ClosedRange<UInt64>]) -> UInt64? {
        let preferred = memory.segments.filter { segment in
            segment.permissions.contains(.write) && preferredRanges.contains { $0.contains(segment.start) }
        }
        for pass in 0..<2 {
            let segments = pass == 0 ? preferred : memory.segments.filter { $0.permissions.contains(.write) }
            var best: (root: UInt64, score: Int)?
            // Each candidate costs a 2 MiB check: a core holding the leaf's address in thousands
            // of places (a root whose slots all name it) must not cost thousands of them.
            var checked = 0
            for segment in segments where segment.presentSize >= 8 && segment.start & 7 == 0 {
                WordSearch.find(leaf, in: segment.bytes) { offset in
                    let slot = segment.start + UInt64(offset)
                    let (root, overflow) = slot.subtractingReportingOverflow(UInt64(rootIndex) * 8)
                    guard !overflow, memory.isPresent(root, count: JemallocLayout.leafBytes),
                          checked < Self.maxRootCandidates else { return }
                    checked += 1
                    guard Self.isPlausibleRoot(root, levels: levels) else { return }
                    var score = 1
                    for (other, index) in others where memory.readU64(root &+ UInt64(index) * 8) == other { score += 1 }
                    if best == nil || score > best!.score { best = (root, score) }
                }
            }
            if let best { return best.root }
        }
        return nil
    }

    static let maxRootCandidates = 64

    /// A root is 2 MiB in the core whose non-zero slots all look like leaf addresses
    /// (cache-line aligned, below 2^48). Copies of a leaf address elsewhere (jemalloc's
    /// per-thread lookup caches) fail this.
    static func isPlausibleRoot(_ root: UInt64, levels: ExtentMapLevels) -> Bool {
        guard root & 7 == 0, let slots = levels.level(at: root) else { return false }
        var nonzero = 0
        var plausible = true
        slots.forEachNonzeroWord { _, value in
            guard value & 63 == 0, value <= JemallocLayout.addressMask else {
                plausible = false
                return false
            }
            nonzero += 1
            return true
        }
        return plausible && nonzero > 0
    }
}
