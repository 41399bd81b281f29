import Allocators
import Analysis

/// Used allocations by block size, in power-of-two buckets: how many, how many bytes, and how
/// much of each is leaked.
public struct SizeHistogram: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        /// Block sizes in `lower..<upper`.
        public var lower: UInt64
        public var upper: UInt64
        public var count: Int
        public var bytes: UInt64
        public var leakedCount: Int
        public var leakedBytes: UInt64
    }

    /// From the smallest non-empty bucket to the largest, empty ones between kept so the axis
    /// stays a doubling scale.
    public var buckets: [Bucket]

    public init(table: AllocationTable, reachability: Reachability?) {
        var counts = [Int](repeating: 0, count: 64)
        var bytes = [UInt64](repeating: 0, count: 64)
        var leakedCounts = [Int](repeating: 0, count: 64)
        var leakedBytes = [UInt64](repeating: 0, count: 64)
        let allocations = table.allocations
        for index in allocations.indices where allocations[index].isUsed {
            let size = allocations[index].blockSize
            let bucket = size == 0 ? 0 : 63 - size.leadingZeroBitCount
            counts[bucket] += 1
            bytes[bucket] &+= size
            if reachability?.liveness(ofAllocationAt: index)?.isLeaked == true {
                leakedCounts[bucket] += 1
                leakedBytes[bucket] &+= size
            }
        }
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else {
            buckets = []
            return
        }
        buckets = (first...last).map { (bucket: Int) -> Bucket in
            let lower: UInt64 = bucket == 0 ? 0 : UInt64(1) << UInt64(bucket)
            let upper: UInt64 = bucket == 63 ? UInt64.max : UInt64(1) << UInt64(bucket + 1)
            return Bucket(lower: lower, upper: upper, count: counts[bucket], bytes: bytes[bucket],
                          leakedCount: leakedCounts[bucket], leakedBytes: leakedBytes[bucket])
        }
    }
}
