extension RandomAccessCollection where Index == Int {
    /// In a collection of disjoint ranges sorted by address, the index of the one containing
    /// `address`, O(log n). `start` and `end` (exclusive) give each element's range.
    @inlinable
    public func index(containing address: UInt64, start: (Element) -> UInt64, end: (Element) -> UInt64) -> Int? {
        var low = startIndex
        var high = endIndex
        while low < high {
            let middle = (low + high) / 2
            if end(self[middle]) <= address { low = middle + 1 } else { high = middle }
        }
        guard low < endIndex, start(self[low]) <= address, address < end(self[low]) else { return nil }
        return low
    }

    /// In a collection sorted by `key`, the index of the first element whose key is at least
    /// `value` (`endIndex` when none), O(log n).
    @inlinable
    public func firstIndex(keyAtLeast value: UInt64, key: (Element) -> UInt64) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let middle = (low + high) / 2
            if key(self[middle]) < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
