import ELFCore

/// A jemalloc heap read from a core without symbols: every extent from the extent map, every
/// thread cache, and the size classes they refer to.
public struct JemallocHeap: Sendable {
    public let detection: JemallocDetection
    public let classes: JemallocSizeClasses
    /// Address of the extent map's root (`arena_emap_global.rtree.root`).
    public let root: UInt64
    /// Extents sorted by base address, disjoint.
    public let extents: [JemallocExtent]
    public let threadCaches: [JemallocThreadCache]
    public let consistency: JemallocConsistency
    public let leafAddresses: [UInt64]
    /// The used part of each of jemalloc's own metadata blocks.
    public let baseBlocks: [Range<UInt64>]
    /// Words checked during the vote, and how many agreed with their extent header.
    public let voteCandidates: Int
    public let voteAgreeing: Int
    public let warnings: [String]

    /// Reads the jemalloc heap of `core`, or returns nil when the process did not use jemalloc.
    /// Throws when it did but its structures cannot be trusted or are of another version.
    public static func read(core: CoreFile) throws -> JemallocHeap? {
        guard let detection = JemallocDetection.detect(in: core) else { return nil }
        return try read(core: core, detection: detection)
    }

    public static func read(core: CoreFile, detection: JemallocDetection) throws -> JemallocHeap {
        var warnings: [String] = []
        if let (major, minor) = detection.majorMinor {
            guard major == 5 && minor >= 3 else {
                throw JemallocError.unsupportedLayout("version \(detection.version ?? "?") (only the 5.3 family is read)")
            }
            if minor > 3 { warnings.append("jemalloc \(detection.version ?? "") is newer than 5.3; reading it with the 5.3 layout") }
        } else {
            warnings.append("jemalloc's version string was not found; assuming the 5.3 layout")
        }
        let pageSize = core.auxVector?.pageSize.flatMap { $0.nonzeroBitCount == 1 ? $0 : nil } ?? 4096
        guard pageSize == 4096 else {
            throw JemallocError.unsupportedLayout("page size \(pageSize) (the extent map layout is known for 4 KiB pages)")
        }
        let classes = JemallocSizeClasses(lgPage: pageSize.trailingZeroBitCount)
        let memory = core.addressSpace

        let levels = ExtentMapLevels(memory: memory)
        let location = try locateExtentMap(levels: levels, classes: classes, detection: detection)
        let voted = location.votedLeaves.map { (address: $0.address, rootIndex: $0.rootIndex) }
        let walk = ExtentMapWalk(levels: levels, classes: classes).walk(root: location.root, votedLeaves: voted)
        if location.root == 0 {
            guard walk.consistency.isTrustworthy else {
                throw JemallocError.extentMapNotFound("leaf \(hex(voted.first?.address ?? 0)) won the vote but no root slot holds it")
            }
            warnings.append("no extent-map root holds the leaves the vote found (a damaged root?); the \(walk.consistency.leaves) voted leaves were walked without it")
        }
        guard walk.consistency.isTrustworthy else {
            let c = walk.consistency
            if c.entries == 0 {
                throw JemallocError.inconsistent("no extent-map entry could be read (\(c.leavesNotInCore) of \(c.leaves) leaves are not in the core)")
            }
            throw JemallocError.inconsistent("\(c.disagreeingEntries) of \(c.entries) extent-map entries disagree with their extent headers")
        }
        warnings += walk.warnings
        if detection.libraryPath == nil && detection.moduleRanges.isEmpty {
            warnings.append("the core has no NT_FILE note (its notes are missing, e.g. a core cut short): "
                + "jemalloc was recognised by its statistics banner in read-only memory")
        }

        let search = ThreadCacheSearch(memory: memory)
        var caches = search.find(threads: core.threads)
        if core.threadPointersMayBeMissing {
            let extents = walk.extents
            let found = search.findWithoutThreads(except: Set(caches.map(\.address))) { cache in
                cache.bins.allSatisfy { bin in
                    bin.pointers.allSatisfy { Self.holds(extents, $0, sizeIndex: bin.sizeIndex, classes: classes) }
                }
            }
            caches += found
            warnings.append("no thread pointers in the core for some threads (thread notes missing, as in a core cut short, or no TLS register in them): "
                + "\(found.count) more thread caches found by their shape in writable memory, not tied to threads; "
                + "a cache whose cached regions disagree with the extent map is not known, and its regions count as used")
        }
        var misplaced = 0
        for cache in caches {
            for bin in cache.bins {
                for pointer in bin.pointers where !Self.holds(walk.extents, pointer, sizeIndex: bin.sizeIndex, classes: classes) { misplaced += 1 }
            }
        }
        if misplaced > 0 {
            warnings.append("thread caches: \(misplaced) cached pointers are not regions of their bin's size class")
        }
        return JemallocHeap(detection: detection, classes: classes, root: location.root, extents: walk.extents,
                            threadCaches: caches, consistency: walk.consistency, leafAddresses: walk.leafAddresses,
                            baseBlocks: JemallocBaseBlocks.find(in: memory, outside: walk.extents),
                            voteCandidates: location.candidates, voteAgreeing: location.agreeing,
                            warnings: WarningDigest.digest(warnings))
    }

    /// Finds the extent map's root by the vote: one pass over the core's writable memory.
    /// Public so benchmarks can time the pass alone.
    public static func extentMapRoot(core: CoreFile, detection: JemallocDetection) throws -> UInt64 {
        let pageSize = core.auxVector?.pageSize.flatMap { $0.nonzeroBitCount == 1 ? $0 : nil } ?? 4096
        return try locateExtentMap(levels: ExtentMapLevels(memory: core.addressSpace),
                                   classes: JemallocSizeClasses(lgPage: pageSize.trailingZeroBitCount),
                                   detection: detection).root
    }

    static func locateExtentMap(levels: ExtentMapLevels, classes: JemallocSizeClasses,
                                detection: JemallocDetection) throws -> ExtentMapLocation {
        do {
            return try ExtentMapSearch(levels: levels, sizeCount: classes.count)
                .locate(preferredRanges: detection.moduleRanges)
        } catch ExtentMapSearch.Failure.noLeaf(let candidates) {
            throw JemallocError.extentMapNotFound("no extent-map leaf: none of \(candidates) candidate words agrees with an extent header")
        } catch ExtentMapSearch.Failure.looksLikeVersion52(let agreeing, let agreeing52) {
            throw JemallocError.unsupportedLayout("extent headers match the 5.1/5.2 layout (\(agreeing52) words) rather than 5.3 (\(agreeing))")
        }
    }

    /// True when `pointer` is the start of a region of class `sizeIndex` in an active extent.
    static func holds(_ extents: [JemallocExtent], _ pointer: UInt64, sizeIndex: Int, classes: JemallocSizeClasses) -> Bool {
        guard let index = extents.extentIndex(containing: pointer), let sizeClass = classes[sizeIndex] else { return false }
        let extent = extents[index]
        guard extent.state == .active, extent.sizeIndex == sizeIndex else { return false }
        if !extent.isSlab { return pointer == extent.address }
        return pointer >= extent.address && (pointer - extent.address) % sizeClass.size == 0
    }
}
