/// Sums of values read from a core (chunk sizes, byte counts) can exceed 64 bits when the core
/// is damaged; a total that sticks at the maximum is visibly wrong, where a trap loses the heap.
extension UInt64 {
    func addingClamped(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    mutating func addClamped(_ other: UInt64) { self = addingClamped(other) }
}

extension Int {
    func addingClamped(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    mutating func addClamped(_ other: Int) { self = addingClamped(other) }
}
