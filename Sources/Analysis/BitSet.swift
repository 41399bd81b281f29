/// A fixed-size set of small integers, one bit each: marks over the allocation table cost
/// n/8 bytes, whatever the heap holds.
struct BitSet {
    private(set) var words: [UInt64]
    let count: Int

    init(count: Int) {
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    func contains(_ index: Int) -> Bool {
        words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// Sets the bit; returns true when it was not set before.
    @discardableResult
    mutating func insert(_ index: Int) -> Bool {
        let mask: UInt64 = 1 << UInt64(index & 63)
        let word = words[index >> 6]
        guard word & mask == 0 else { return false }
        words[index >> 6] = word | mask
        return true
    }

    mutating func remove(_ index: Int) {
        words[index >> 6] &= ~(1 << UInt64(index & 63))
    }

    var population: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}

extension BitSet {
    /// Adds every member of `other`, which has the same count.
    mutating func formUnion(_ other: BitSet) {
        precondition(other.count == count)
        words.withUnsafeMutableBufferPointer { mine in
            other.words.withUnsafeBufferPointer { theirs in
                for index in mine.indices { mine[index] |= theirs[index] }
            }
        }
    }

    /// Calls `body` with each member in ascending order, a word at a time.
    func forEachMember(_ body: (Int) -> Void) {
        for (wordIndex, word) in words.enumerated() where word != 0 {
            var remaining = word
            while remaining != 0 {
                body(wordIndex << 6 | remaining.trailingZeroBitCount)
                remaining &= remaining - 1
            }
        }
    }
}
