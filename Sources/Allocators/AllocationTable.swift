import ELFCore

/// One block handed out (or held free) by an allocator, in the shape every allocator walker
/// produces, so `types`, `find`, `leaks` and `explain` work the same on glibc and jemalloc.
///
/// 16 bytes: the address, and one word packing the usable size (40 bits, up to 1 TiB), the
/// allocator's header (`blockSize − usableSize`, 7 bits), the used flag and the arena (16 bits).
/// Tables of tens of millions of allocations are the largest structure of a leak hunt, so every
/// byte here is tens of megabytes there; walkers check `isRepresentable` for values read from a
/// core before building one.
public struct Allocation: Sendable, Equatable {
    /// The address the program got from malloc (user pointer), not the allocator's header.
    public var address: UInt64
    private var packed: UInt64

    private static let sizeBits: UInt64 = 40
    private static let headerBits: UInt64 = 7
    private static let headerShift = sizeBits
    private static let usedShift = sizeBits + headerBits
    private static let arenaShift = usedShift + 1
    private static let sizeMask: UInt64 = (1 << sizeBits) - 1
    private static let headerMask: UInt64 = (1 << headerBits) - 1

    /// Largest usable size a table can hold (1 TiB − 1).
    public static let maximumUsableSize: UInt64 = sizeMask
    /// Largest `blockSize − usableSize` (allocator headers are 0 to 16 bytes).
    public static let maximumHeader: UInt64 = headerMask
    /// Largest arena index; -1 stands for unknown.
    public static let maximumArena: Int32 = Int32(UInt16.max) - 1

    /// Whether these values fit an `Allocation`; walkers skip (and report) blocks that do not.
    public static func isRepresentable(usableSize: UInt64, blockSize: UInt64, arena: Int32) -> Bool {
        usableSize <= maximumUsableSize && blockSize >= usableSize && blockSize - usableSize <= maximumHeader
            && arena >= -1 && arena <= maximumArena
    }

    /// `blockSize` is at least `usableSize` and exceeds it by at most `maximumHeader`, as every
    /// allocator's block is its usable bytes plus a header (see `isRepresentable`).
    public init(address: UInt64, usableSize: UInt64, blockSize: UInt64, isUsed: Bool, arena: Int32) {
        precondition(Self.isRepresentable(usableSize: usableSize, blockSize: blockSize, arena: arena),
                     "an allocation's block is its usable size plus a header, in a known arena")
        self.address = address
        packed = usableSize | (blockSize - usableSize) << Self.headerShift
            | (isUsed ? 1 << Self.usedShift : 0) | UInt64(UInt16(arena + 1)) << Self.arenaShift
    }

    /// Bytes the program may use from `address` (malloc_usable_size).
    public var usableSize: UInt64 { packed & Self.sizeMask }

    /// The allocator's block size for this allocation (glibc chunk size, jemalloc region size).
    public var blockSize: UInt64 {
        get { usableSize &+ (packed >> Self.headerShift) & Self.headerMask }
        set {
            precondition(newValue >= usableSize && newValue - usableSize <= Self.maximumHeader,
                         "an allocation's block is its usable size plus a header")
            packed = packed & ~(Self.headerMask << Self.headerShift) | (newValue - usableSize) << Self.headerShift
        }
    }

    public var isUsed: Bool {
        get { packed >> Self.usedShift & 1 != 0 }
        set { packed = packed & ~(1 << Self.usedShift) | (newValue ? 1 << Self.usedShift : 0) }
    }

    /// Index into `AllocationTable.arenas`; -1 when unknown.
    public var arena: Int32 {
        get { Int32(packed >> Self.arenaShift) - 1 }
        set {
            precondition(newValue >= -1 && newValue <= Self.maximumArena, "an arena index or -1")
            packed = packed & ~(UInt64(UInt16.max) << Self.arenaShift) | UInt64(UInt16(newValue + 1)) << Self.arenaShift
        }
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
    public let allocations: AllocationList
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
    /// Thread caches, top chunks and the free list of each cached chunk, where the walker knows them.
    public internal(set) var places = AllocatorPlaces.none

    public init(allocator: String, method: String, arenas: [String], allocations: AllocationList, warnings: [String],
                managedRanges: [Range<UInt64>] = [], allocatorState: [Range<UInt64>] = []) {
        self.allocator = allocator
        self.method = method
        self.arenas = arenas
        // Walkers usually produce address order already; checking is O(n), sorting is not, and
        // sorting happens in place (a sorted copy would double the table at its peak).
        var list = allocations
        if !zip(list, list.dropFirst()).allSatisfy({ $0.address <= $1.address }) {
            list.withUnsafeMutableBufferPointer { buffer in
                var buffer = buffer
                buffer.sort { $0.address < $1.address }
            }
        }
        self.allocations = list
        self.warnings = warnings
        self.managedRanges = managedRanges.sorted { $0.lowerBound < $1.lowerBound }
        self.allocatorState = AddressRanges.merged(allocatorState)
    }

    public init(allocator: String, method: String, arenas: [String], allocations: [Allocation], warnings: [String],
                managedRanges: [Range<UInt64>] = [], allocatorState: [Range<UInt64>] = []) {
        self.init(allocator: allocator, method: method, arenas: arenas, allocations: AllocationList(allocations),
                  warnings: warnings, managedRanges: managedRanges, allocatorState: allocatorState)
    }

    /// Index of the allocation whose usable range contains `pointer` (start or interior), O(log n).
    public func index(containing pointer: UInt64) -> Int? {
        allocations.index(containing: pointer, start: \.address, end: \.end)
    }

    public func allocation(containing pointer: UInt64) -> Allocation? {
        index(containing: pointer).map { allocations[$0] }
    }
}
