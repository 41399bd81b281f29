/// How large the objects of a class are, and how that is known.
public struct ObjectSize: Sendable, Hashable {
    public enum Source: String, Sendable, Codable {
        /// `DW_AT_byte_size` of the class: exact.
        case dwarf
        /// The most common distance between objects of the class in memory.
        case stride
        /// The usable size of the allocations holding the objects, from the allocator walk
        /// (the most common one; its share is the confidence).
        case allocation
    }

    public let bytes: UInt64
    public let source: Source
    /// 1 for DWARF; the stride's share of distances otherwise.
    public let confidence: Double
    /// How many distances a stride rests on (nil for DWARF).
    public let samples: Int?

    public static func dwarf(_ bytes: UInt64) -> ObjectSize {
        ObjectSize(bytes: bytes, source: .dwarf, confidence: 1, samples: nil)
    }

    public static func allocation(_ bytes: UInt64, share: Double, objects: Int) -> ObjectSize {
        ObjectSize(bytes: bytes, source: .allocation, confidence: share, samples: objects)
    }

    public static func stride(_ estimate: StrideEstimate) -> ObjectSize {
        ObjectSize(bytes: estimate.stride, source: .stride, confidence: estimate.confidence, samples: estimate.samples)
    }
}
