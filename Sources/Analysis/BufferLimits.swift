import Synchronization

/// The scanned byte range of each allocation reached only as a container's buffer: the hull of
/// the live ranges its containers claim (a vector's [start, finish), a deque block's cursors).
/// Few allocations have one, so a locked map costs less than a number per allocation.
final class BufferLimits: @unchecked Sendable {
    struct Range: Equatable {
        var lo: UInt64
        var hi: UInt64
        var isEmpty: Bool { lo >= hi }
    }

    private let ranges = Mutex<[Int: Range]>([:])

    /// Widens the range of `index` to cover `lo..<hi`; true when it grew (the buffer needs a
    /// rescan). An empty range marks the buffer reached with nothing live in it.
    func widen(_ index: Int, lo: UInt64, hi: UInt64) -> Bool {
        ranges.withLock { ranges in
            let claimed = Range(lo: lo, hi: max(lo, hi))
            guard let known = ranges[index] else {
                ranges[index] = claimed
                return true
            }
            if claimed.isEmpty { return false }
            let hull = known.isEmpty ? claimed : Range(lo: min(known.lo, claimed.lo), hi: max(known.hi, claimed.hi))
            if hull == known { return false }
            ranges[index] = hull
            return true
        }
    }

    func range(_ index: Int) -> Range {
        ranges.withLock { $0[index] ?? Range(lo: 0, hi: 0) }
    }
}
