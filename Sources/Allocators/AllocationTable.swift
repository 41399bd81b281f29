import ELFCore

/// One block handed out (or held free) by an allocator, in the shape every allocator walker
/// produces, so `types`, `find`, `leaks` and `explain` work the same on glibc and jemalloc.
public struct Allocation: Sendable, Equatable {
    /// The address the program got from malloc (user pointer), not the allocator's header.
    public var address: UInt64
    /// Bytes the program may use from `address` (malloc_usable_size).
    public var usableSize: UInt64
    /// `blockSize − usableSize` (the allocator's header, 0 to 16 bytes) in the low 31 bits and
    /// `isUsed` in the top bit: 24 bytes an allocation instead of 32, which is a quarter of the
    /// table on heaps of tens of millions of allocations.
    private var overheadAndUse: UInt32
    /// Index into `AllocationTable.arenas`; -1 when unknown.
    public var arena: Int32

    private static let usedBit: UInt32 = 1 << 31

    /// `blockSize` is at least `usableSize` and exceeds it by less than 2 GiB, as every
    /// allocator's block is its usable bytes plus a header.
    public init(address: UInt64, usableSize: UInt64, blockSize: UInt64, isUsed: Bool, arena: Int32) {
        precondition(blockSize >= usableSize && blockSize - usableSize < UInt64(Self.usedBit),
                     "an allocation's block is its usable size plus a header")
        self.address = address
        self.usableSize = usableSize
        self.arena = arena
        overheadAndUse = UInt32(blockSize - usableSize) | (isUsed ? Self.usedBit : 0)
    }

    /// The allocator's block size for this allocation (glibc chunk size, jemalloc region size).
    public var blockSize: UInt64 {
        get { usableSize &+ UInt64(overheadAndUse & ~Self.usedBit) }
        set {
            precondition(newValue >= usableSize && newValue - usableSize < UInt64(Self.usedBit),
                         "an allocation's block is its usable size plus a header")
            overheadAndUse = UInt32(newValue - usableSize) | (overheadAndUse & Self.usedBit)
        }
    }

    public var isUsed: Bool {
        get { overheadAndUse & Self.usedBit != 0 }
        set { overheadAndUse = newValue ? overheadAndUse | Self.usedBit : overheadAndUse & ~Self.usedBit }
    }

    public var end: UInt64 { address &+ usableSize }
    public func contains(_ pointer: UInt64) -> Bool { pointer >= address && pointer < end }
}

/// Every allocation an allocator walker found, sorted by address, non-overlapping.
public struct AllocationTable: Sendable {
    /// e.g. "glibc 2.36" or "jemalloc 5.3.0".
    public let allocator: String
    /// How the allocator's structures were found (e.g. "main_arena symbol", "heap scan").
    public let method: String
    /// Names of arenas, indexed by `Allocation.arena`.
    public let arenas: [String]
    public let allocations: [Allocation]
    public let warnings: [String]
    /// Address ranges the allocator manages (heaps, slabs, extents, mmapped chunks), sorted,
    /// half-open. Memory outside them is not allocator-owned: for reachability it is a root,
    /// while stale words inside them (free chunks, top chunk) must never anchor anything.
    public let managedRanges: [Range<UInt64>]
    /// Memory holding the allocator's own bookkeeping outside its heaps or inside allocations it
    /// made for itself (jemalloc's `edata_t` records, thread-cache stacks), sorted: its words
    /// name regions the allocator tracks, free or reused, never objects the program keeps, so
    /// it is neither a root nor scanned.
    public let allocatorState: [Range<UInt64>]

    public init(allocator: String, method: String, arenas: [String], allocations: [Allocation], warnings: [String],
                managedRanges: [Range<UInt64>] = [], allocatorState: [Range<UInt64>] = []) {
        self.allocator = allocator
        self.method = method
        self.arenas = arenas
        // Walkers usually produce address order already; checking is O(n), sorting is not.
        let isSorted = zip(allocations, allocations.dropFirst()).allSatisfy { $0.address <= $1.address }
        self.allocations = isSorted ? allocations : allocations.sorted { $0.address < $1.address }
        self.warnings = warnings
        self.managedRanges = managedRanges.sorted { $0.lowerBound < $1.lowerBound }
        self.allocatorState = Self.mergedRanges(allocatorState)
    }

    /// Sorted, overlapping and touching ranges joined.
    public static func mergedRanges(_ ranges: [Range<UInt64>]) -> [Range<UInt64>] {
        AddressRanges.merged(ranges)
    }

    /// Index of the allocation whose usable range contains `pointer` (start or interior), O(log n).
    public func index(containing pointer: UInt64) -> Int? {
        allocations.index(containing: pointer, start: \.address, end: \.end)
    }

    public func allocation(containing pointer: UInt64) -> Allocation? {
        index(containing: pointer).map { allocations[$0] }
    }
}
