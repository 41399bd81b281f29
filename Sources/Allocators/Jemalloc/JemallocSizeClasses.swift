/// One jemalloc size class: a small "bin" class (regions carved from slabs) or a large class
/// (one extent per allocation).
public struct JemallocSizeClass: Sendable, Equatable, Codable {
    /// jemalloc's `szind_t`: the index of the class, as stored in extent headers and the extent map.
    public let index: Int
    public let size: UInt64
    public let isBin: Bool
    /// Pages per slab (bins only; 0 for large classes).
    public let slabPages: Int
    /// Regions per slab (bins only; 0 for large classes).
    public let regionsPerSlab: Int
}

/// jemalloc's size classes, computed the way its `sc.c` does (`size_classes()` and
/// `slab_size()`), so they follow the page size and quantum of the process rather than a table
/// copied from one build. Classes are `2^lg_base + ndelta * 2^lg_delta`, four per doubling.
public struct JemallocSizeClasses: Sendable {
    public let classes: [JemallocSizeClass]
    /// Number of small classes (`SC_NBINS`); indices below it are bins.
    public let binCount: Int
    public let pageSize: UInt64

    /// `SC_NSIZES`: also the index jemalloc stores in the extent map for "no size class".
    public var count: Int { classes.count }

    /// - Parameters: logarithms of page size, quantum, smallest (tiny) class, classes per
    ///   doubling and pointer size; the defaults are x86-64 Linux's.
    public init(lgPage: Int = 12, lgQuantum: Int = 4, lgTinyMin: Int = 3, lgGroup: Int = 2, lgPointerSize: Int = 3) {
        pageSize = UInt64(1) << UInt64(lgPage)
        let pointerBits = (1 << lgPointerSize) * 8
        let group = 1 << lgGroup
        let binLimit = UInt64(1) << UInt64(lgPage + lgGroup)
        var classes: [JemallocSizeClass] = []

        func add(_ lgBase: Int, _ lgDelta: Int, _ ndelta: Int) {
            let size = (UInt64(1) << UInt64(lgBase)) + UInt64(ndelta) << UInt64(lgDelta)
            let isBin = size < binLimit
            let pages = isBin ? Self.slabPages(pageSize: UInt64(1) << UInt64(lgPage), regionSize: size) : 0
            let regions = isBin ? Int(UInt64(pages) << UInt64(lgPage) / size) : 0
            classes.append(JemallocSizeClass(index: classes.count, size: size, isBin: isBin,
                                             slabPages: pages, regionsPerSlab: regions))
        }

        var lgBase = lgTinyMin
        var lgDelta = lgBase
        var ndelta = 0
        var tinyCount = 0
        while lgBase < lgQuantum {
            add(lgBase, lgDelta, ndelta)
            tinyCount += 1
            lgDelta = lgBase
            lgBase += 1
        }
        // The first group after the tiny classes has one class fewer (see sc.h).
        if tinyCount != 0 {
            lgBase -= 1
            ndelta = 1
            add(lgBase, lgDelta, ndelta)
            lgBase += 1
            lgDelta += 1
        }
        while ndelta < group {
            add(lgBase, lgDelta, ndelta)
            ndelta += 1
        }
        lgBase += lgGroup
        while lgBase < pointerBits - 1 {
            ndelta = 1
            let limit = lgBase == pointerBits - 2 ? group - 1 : group
            while ndelta <= limit {
                add(lgBase, lgDelta, ndelta)
                ndelta += 1
            }
            lgBase += 1
            lgDelta += 1
        }
        self.classes = classes
        binCount = classes.prefix { $0.isBin }.count
    }

    /// The smallest whole number of pages that regions of `regionSize` fill exactly
    /// (`slab_size()` in sc.c).
    static func slabPages(pageSize: UInt64, regionSize: UInt64) -> Int {
        var slab = pageSize
        while slab % regionSize != 0 { slab += pageSize }
        return Int(slab / pageSize)
    }

    public subscript(index: Int) -> JemallocSizeClass? {
        index >= 0 && index < classes.count ? classes[index] : nil
    }

    /// The class a request of `size` bytes lands in (jemalloc's `sz_size2index`).
    public func index(forRequest size: UInt64) -> Int? {
        var low = 0
        var high = classes.count
        while low < high {
            let middle = (low + high) / 2
            if classes[middle].size < size { low = middle + 1 } else { high = middle }
        }
        return low < classes.count ? low : nil
    }
}
