import Synchronization

/// The scanned length of each allocation reached only as a `std::vector` buffer: the largest
/// `finish − start` any of its vectors claims. Few allocations have one, so a locked map costs
/// less than a number per allocation.
final class BufferLimits: @unchecked Sendable {
    private let limits = Mutex<[UInt32: UInt64]>([:])

    /// Raises the limit of `index` to `bytes`; true when it grew (the buffer needs a rescan).
    func widen(_ index: Int, to bytes: UInt64) -> Bool {
        limits.withLock { limits in
            let key = UInt32(truncatingIfNeeded: index)
            if let known = limits[key], known >= bytes { return false }
            limits[key] = bytes
            return true
        }
    }

    func limit(_ index: Int) -> UInt64 {
        limits.withLock { $0[UInt32(truncatingIfNeeded: index)] ?? 0 }
    }
}
