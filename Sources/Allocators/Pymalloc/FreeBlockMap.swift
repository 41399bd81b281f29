/// One bit per block of a pool: the blocks its free list holds. Made once per walk and refilled
/// for each pool, so a walk over thousands of pools allocates nothing per pool.
struct FreeBlockMap {
    private let words: UnsafeMutablePointer<UInt64>
    private let wordCount: Int

    private init(layout: PymallocLayout) {
        // The smallest size class has the most blocks per pool.
        wordCount = (layout.capacity(ofClass: 0) + 63) / 64
        words = .allocate(capacity: wordCount)
        words.initialize(repeating: 0, count: wordCount)
    }

    static func with<Result>(layout: PymallocLayout, _ body: (inout FreeBlockMap) throws -> Result) rethrows -> Result {
        var map = FreeBlockMap(layout: layout)
        defer { map.words.deallocate() }
        return try body(&map)
    }

    /// The free blocks of `pool` (its bytes `bytes`): how many, and where its list is damaged.
    mutating func fill(from pool: PymallocPool, bytes: UnsafeRawBufferPointer, layout: PymallocLayout) -> (count: Int, damage: String?) {
        words.update(repeating: 0, count: wordCount)
        return pool.markFreeBlocks(in: bytes, layout: layout, free: words)
    }

    func isFree(_ block: Int) -> Bool { words[block >> 6] & (1 << UInt64(block & 63)) != 0 }
}
