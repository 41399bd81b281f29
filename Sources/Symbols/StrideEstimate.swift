/// An object size guessed from where objects of one class sit in memory: the most common small
/// distance between consecutive objects. Objects allocated one after another sit one allocation
/// granule apart, so the stride is the size the allocator gave them (an upper bound of the
/// object size); interleaved allocations spread the distances and lower the confidence.
public struct StrideEstimate: Sendable, Hashable, Codable {
    public let stride: UInt64
    /// Share of all distances that equal `stride`, 0…1.
    public let confidence: Double
    /// How many distances the estimate rests on.
    public let samples: Int

    /// Distances above this are gaps between runs, not strides.
    public static let maxStride: UInt64 = 1 << 16

    /// From object addresses (any order); nil with fewer than two objects or no small distance.
    public init?(addresses: [UInt64]) {
        guard addresses.count >= 2 else { return nil }
        let sorted = addresses.sorted()
        var histogram: [UInt64: Int] = [:]
        for (previous, next) in zip(sorted, sorted.dropFirst()) {
            let distance = next - previous
            if distance > 0 && distance <= Self.maxStride { histogram[distance, default: 0] += 1 }
        }
        // Ties go to the smaller distance: the finer granule explains the larger ones.
        guard let best = histogram.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) else {
            return nil
        }
        stride = best.key
        samples = sorted.count - 1
        confidence = Double(best.value) / Double(samples)
    }
}
