import ELFCore

/// One extent jemalloc manages, read from its `edata_t` and checked against the extent map.
public struct JemallocExtent: Sendable {
    /// Address of the `edata_t` header describing it.
    public let edata: UInt64
    public let arena: Int
    public let state: JemallocExtentState
    public let isSlab: Bool
    /// Size class (`szind`); jemalloc's "no class" value for extents not in use.
    public let sizeIndex: Int
    /// First page.
    public let base: UInt64
    /// `e_addr`: the slab start, or the pointer a large allocation returned (which jemalloc
    /// offsets by a random number of cache lines into the first page).
    public let address: UInt64
    /// Bytes of address space, including the page of padding after large allocations.
    public let size: UInt64
    /// Free regions of a slab (`nfree`), equal to the set bits of `freeBitmap`.
    public let freeCount: Int
    /// A slab's region bitmap: bit set means free. Empty for other extents.
    let freeBitmap: [UInt64]

    public var end: UInt64 { base &+ size }

    public func isRegionFree(_ region: Int) -> Bool {
        let word = region >> 6
        guard word < freeBitmap.count else { return false }
        return freeBitmap[word] >> UInt64(region & 63) & 1 != 0
    }
}

extension Array where Element == JemallocExtent {
    /// Index of the extent whose pages contain `address`, in an array sorted by base.
    func extentIndex(containing address: UInt64) -> Int? {
        index(containing: address, start: \.base, end: \.end)
    }
}
