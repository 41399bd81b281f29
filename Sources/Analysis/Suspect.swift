/// One line of `heapscan leaks`: a group of allocations that share an identity.
public struct Suspect: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// C++ objects of one dynamic type, identified by the vtable pointer in their first word
        /// (or behind an allocator header, at `offset`).
        case type
        /// Parts of libstdc++ containers of one kind: map, list or hash nodes (of one block
        /// size), hash bucket arrays, deque maps and blocks, vector bodies, long strings' characters.
        case container
        /// Allocations of one size carrying the same non-pointer value at the same offset.
        case magic
        /// Allocations of one size with no known type or magic.
        case size
    }

    public var kind: Kind
    /// Class name ("THD at +24" behind an allocator header), container part ("std::map node
    /// (80-byte blocks)", "vector body of Channel*"), "0xa11c0de5 at +0", or "48-byte blocks".
    public var name: String
    /// The identifying value (vtable address point or magic), "0x…".
    public var value: String?
    /// Width in bytes of a magic value.
    public var width: Int?
    /// Offset of a magic inside its allocation, or of an object behind an allocator header.
    public var offset: UInt64?
    public var module: String?
    public var count: Int
    /// Sum of the allocator block sizes of the group (what the group costs the process).
    public var bytes: UInt64
    /// `bytes` over all used heap bytes.
    public var share: Double
    /// The usable size of the group's allocations (the most common one when they differ).
    public var objectSize: UInt64
    /// Counts by reachability; nil when the allocator is unknown and so is reachability.
    public var anchored: Int?
    public var leaked: Int?
    /// Block bytes of the leaked allocations of the group.
    public var leakedBytes: UInt64?
    /// Leaked allocations of the group where the program lost objects: nothing leaked points to
    /// them, or they stand for a cycle of leaked objects (one per cycle).
    public var leakRoots: Int?
    /// Leaked allocations kept alive only by a cycle of leaked allocations.
    public var inLeakedCycles: Int?
    /// Leaked and not referenced by anything at all (a subset of `leaked`).
    public var unreferenced: Int?
    /// With `--owners`: the typed object field that most often points into the group's
    /// allocations ("Channel +24"), and the share of the group it holds.
    public var owner: String?
    public var ownerShare: Double?
    /// Up to three allocation addresses, leaked ones first.
    public var examples: [String]
    /// The command that shows these objects.
    public var command: String

    /// The ranking key by total cost: bytes first, then count.
    static func ranksBefore(_ lhs: Suspect, _ rhs: Suspect) -> Bool {
        if lhs.bytes != rhs.bytes { return lhs.bytes > rhs.bytes }
        if lhs.count != rhs.count { return lhs.count > rhs.count }
        return lhs.name < rhs.name
    }

    /// The ranking key of a leak hunt: leaked bytes first, so a healthy type with many anchored
    /// objects does not hide the leak; then the total-cost order.
    static func leaksRankBefore(_ lhs: Suspect, _ rhs: Suspect) -> Bool {
        let left = lhs.leakedBytes ?? 0
        let right = rhs.leakedBytes ?? 0
        if left != right { return left > right }
        return ranksBefore(lhs, rhs)
    }
}
