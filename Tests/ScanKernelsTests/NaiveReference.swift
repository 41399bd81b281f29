@testable import ScanKernels

/// Deliberately simple models of what the kernels compute, to compare them against.
enum NaiveReference {
    /// (offset, needle index) of every match starting in `[0, startLimit)` and ending within
    /// `bytes`, with each needle's alignment applied to `address + offset`.
    static func find(_ needles: [Needle], in bytes: [UInt8], address: UInt64, startLimit: Int? = nil) -> [Hit] {
        var hits: [Hit] = []
        let limit = min(startLimit ?? bytes.count, bytes.count)
        for offset in 0..<limit {
            for (index, needle) in needles.enumerated() {
                guard (address + UInt64(offset)) % UInt64(needle.alignment) == 0,
                      offset + needle.bytes.count <= bytes.count,
                      Array(bytes[offset..<(offset + needle.bytes.count)]) == needle.bytes else { continue }
                hits.append(Hit(address: address + UInt64(offset), needle: index))
            }
        }
        return hits
    }

    struct Hit: Hashable, Comparable, CustomStringConvertible {
        let address: UInt64
        let needle: Int
        static func < (lhs: Hit, rhs: Hit) -> Bool { (lhs.address, lhs.needle) < (rhs.address, rhs.needle) }
        var description: String { "0x\(String(address, radix: 16))#\(needle)" }
    }

    /// Counts of every aligned word of `width` in `bytes` (which starts at `address`).
    static func wordCounts(_ bytes: [UInt8], address: UInt64, width: Int) -> [UInt64: UInt64] {
        var counts: [UInt64: UInt64] = [:]
        var offset = Int((UInt64(width) - address % UInt64(width)) % UInt64(width))
        while offset + width <= bytes.count {
            var value: UInt64 = 0
            for index in (0..<width).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
            counts[value, default: 0] += 1
            offset += width
        }
        return counts
    }

    /// The top `n` of `counts`, most frequent first, equal counts by value.
    static func top(_ counts: [UInt64: UInt64], _ n: Int) -> [WordCount] {
        counts.map { WordCount(value: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
            .prefix(n).map { $0 }
    }
}
