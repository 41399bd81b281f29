import Allocators

/// Pointer → allocation lookup tuned for the mark phase: a hash of 4 KiB buckets narrows a
/// value to the few allocations overlapping its bucket (or rejects it at once when no
/// allocation does, which is the case for most words), then a binary search over the table's
/// allocations in the bucket finishes the job. A bucket whose allocations are evenly spaced
/// (a jemalloc slab page, a run of equal glibc chunks) skips the search and the table: the
/// bucket's first start, stride and size answer with one division. That matters on big heaps
/// where most words are pointers: every table access there misses the cache. Buckets are a
/// page, so a jemalloc slab page holds one size class, and cost about 1% of the heap's size.
struct AllocationLookup: @unchecked Sendable {
    /// One hash slot, packed so a probe touches one cache line.
    private struct Bucket {
        /// Bucket number + 1; 0 marks an empty slot.
        var key: UInt64 = 0
        /// Start of the first allocation overlapping the bucket.
        var first: UInt64 = 0
        /// Allocations overlapping the bucket: `low..<high` in table order.
        var low: UInt32 = 0
        var high: UInt32 = 0
        /// Distance between consecutive starts when it is the same for all of them; 0 for a
        /// single allocation, `irregular` otherwise.
        var stride: UInt32 = 0
        /// The usable size they all share when `stride` is not `irregular`.
        var size: UInt32 = 0
    }

    /// The table itself, shared rather than copied into start/end arrays: those would cost 16
    /// bytes per allocation, and evenly spaced buckets never read it.
    private let allocations: AllocationList
    private let buckets: [Bucket]
    private let mask: Int
    static let bucketShift: UInt64 = 12
    private static let irregular = UInt32.max

    init(_ allocations: AllocationList) {
        self.allocations = allocations
        var bucketCount = 0
        var previous = UInt64.max
        for allocation in allocations where allocation.usableSize > 0 {
            let first = allocation.address >> Self.bucketShift
            let last = (allocation.end - 1) >> Self.bucketShift
            bucketCount += Int(last - first) + (first == previous ? 0 : 1)
            previous = last
        }
        var capacity = 16
        while capacity < bucketCount * 2 { capacity *= 2 }
        mask = capacity - 1
        var buckets = [Bucket](repeating: Bucket(), count: capacity)
        for (index, allocation) in allocations.enumerated() where allocation.usableSize > 0 {
            var bucket = allocation.address >> Self.bucketShift
            let last = (allocation.end - 1) >> Self.bucketShift
            while bucket <= last {
                var slot = Self.slot(bucket, mask)
                while buckets[slot].key != 0 && buckets[slot].key != bucket + 1 { slot = (slot + 1) & mask }
                if buckets[slot].key == 0 {
                    buckets[slot].key = bucket + 1
                    buckets[slot].low = UInt32(index)
                    buckets[slot].first = allocation.address
                    buckets[slot].size = UInt32(truncatingIfNeeded: allocation.usableSize)
                    if allocation.usableSize >= UInt64(Self.irregular) { buckets[slot].stride = Self.irregular }
                } else if buckets[slot].stride != Self.irregular {
                    // Indices skipped (empty allocations), uneven spacing or sizes need the search.
                    let previous = Int(buckets[slot].high) - 1
                    let gap = allocation.address &- allocations[previous].address
                    let expected = buckets[slot].stride == 0 ? gap : UInt64(buckets[slot].stride)
                    let regular = previous == index - 1 && gap == expected && gap > 0 && gap < UInt64(Self.irregular)
                        && allocation.usableSize == UInt64(buckets[slot].size)
                    buckets[slot].stride = regular ? UInt32(gap) : Self.irregular
                }
                buckets[slot].high = UInt32(index + 1)
                bucket += 1
            }
        }
        self.buckets = buckets
    }

    @inline(__always)
    private static func slot(_ bucket: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (bucket &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// Index of the allocation containing `value`, or -1.
    @inline(__always)
    func find(_ value: UInt64) -> Int {
        let key = (value >> Self.bucketShift) + 1
        var slot = Self.slot(key - 1, mask)
        while true {
            let found = buckets[slot].key
            if found == 0 { return -1 }
            if found == key { break }
            slot = (slot + 1) & mask
        }
        let bucket = buckets[slot]
        var low = Int(bucket.low)
        var high = Int(bucket.high)
        if bucket.stride != Self.irregular {
            // Allocations before `low` end before this bucket, so a value below its start is in none.
            guard value >= bucket.first else { return -1 }
            let offset = value - bucket.first
            guard bucket.stride != 0 else { return offset < UInt64(bucket.size) ? low : -1 }
            let position = offset / UInt64(bucket.stride)
            guard position < UInt64(high - low), offset - position * UInt64(bucket.stride) < UInt64(bucket.size) else { return -1 }
            return low + Int(position)
        }
        // Last allocation starting at or before `value`.
        while low < high {
            let middle = (low + high) >> 1
            if allocations[middle].address <= value { low = middle + 1 } else { high = middle }
        }
        let candidate = low - 1
        return candidate >= 0 && allocations[candidate].contains(value) ? candidate : -1
    }
}
