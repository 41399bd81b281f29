import Allocators

/// Pointer → allocation lookup tuned for the mark phase: a hash of 64 KiB buckets narrows a
/// value to the few allocations overlapping its bucket (or rejects it at once when no
/// allocation does, which is the case for most words), then a binary search over contiguous
/// start addresses finishes the job.
struct AllocationLookup: @unchecked Sendable {
    private let starts: [UInt64]
    private let ends: [UInt64]
    private let bucketKeys: [UInt64]
    private let bucketLows: [Int32]
    private let bucketHighs: [Int32]
    private let mask: Int
    static let bucketShift: UInt64 = 16

    init(_ allocations: [Allocation]) {
        starts = allocations.map(\.address)
        ends = allocations.map(\.end)
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
        var keys = [UInt64](repeating: 0, count: capacity)
        var lows = [Int32](repeating: 0, count: capacity)
        var highs = [Int32](repeating: 0, count: capacity)
        for (index, allocation) in allocations.enumerated() where allocation.usableSize > 0 {
            var bucket = allocation.address >> Self.bucketShift
            let last = (allocation.end - 1) >> Self.bucketShift
            while bucket <= last {
                var slot = Self.slot(bucket, mask)
                while keys[slot] != 0 && keys[slot] != bucket + 1 { slot = (slot + 1) & mask }
                if keys[slot] == 0 {
                    keys[slot] = bucket + 1
                    lows[slot] = Int32(index)
                }
                highs[slot] = Int32(index + 1)
                bucket += 1
            }
        }
        bucketKeys = keys
        bucketLows = lows
        bucketHighs = highs
    }

    @inline(__always)
    private static func slot(_ bucket: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (bucket &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// Index of the allocation containing `value`, or -1.
    @inline(__always)
    func find(_ value: UInt64) -> Int {
        let bucket = value >> Self.bucketShift
        var slot = Self.slot(bucket, mask)
        while true {
            let key = bucketKeys[slot]
            if key == 0 { return -1 }
            if key == bucket + 1 { break }
            slot = (slot + 1) & mask
        }
        var low = Int(bucketLows[slot])
        var high = Int(bucketHighs[slot])
        // Last allocation starting at or before `value`.
        while low < high {
            let middle = (low + high) >> 1
            if starts[middle] <= value { low = middle + 1 } else { high = middle }
        }
        let candidate = low - 1
        return candidate >= 0 && value < ends[candidate] && value >= starts[candidate] ? candidate : -1
    }
}
