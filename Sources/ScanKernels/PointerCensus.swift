/// Counts how often each distinct 8-byte-aligned word that points into an `AddressFilter`'s
/// ranges occurs in memory, in one pass at memory speed (see `ClusterScan`). Used for the
/// vtable census: heap words pointing into module data are counted, then only the distinct
/// values are examined.
public final class PointerCensus {
    public let filter: AddressFilter
    private var table: PointerCountTable

    public init(filter: AddressFilter) {
        self.filter = filter
        table = PointerCountTable(capacity: 1024)
    }

    deinit { table.deallocate() }

    /// Counts the words of `bytes`, the memory starting at `address`; only words at 8-byte
    /// aligned addresses count.
    public func scan(_ bytes: UnsafeRawBufferPointer, at address: UInt64 = 0) {
        var local = table
        ClusterScan.scan(bytes, at: address, filter: filter, handler: &local)
        table = local
    }

    /// Every distinct word counted that lies exactly inside a range, with its count, by value.
    public var counts: [(value: UInt64, count: Int)] {
        var result: [(value: UInt64, count: Int)] = []
        for slot in 0..<table.capacity where table.key(at: slot) != 0 && filter.contains(table.key(at: slot)) {
            result.append((table.key(at: slot), Int(table.count(at: slot))))
        }
        return result.sorted { $0.value < $1.value }
    }
}

/// Open-addressing counts keyed by nonzero words (0 marks an empty slot; no range starts at 0).
/// Key and count sit side by side, so a hit touches one cache line.
struct PointerCountTable: ClusterHitHandler {
    /// `slots[2 * i]` is a key, `slots[2 * i + 1]` its count.
    var slots: UnsafeMutablePointer<UInt64>
    var capacity: Int
    var used = 0

    init(capacity: Int) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity * 2)
        slots.initialize(repeating: 0, count: capacity * 2)
    }

    func deallocate() { slots.deallocate() }

    func key(at slot: Int) -> UInt64 { slots[2 * slot] }
    func count(at slot: Int) -> UInt64 { slots[2 * slot + 1] }

    @inline(__always)
    mutating func record(_ word: UInt64, at offset: Int) { increment(word) }

    @inline(__always)
    mutating func increment(_ key: UInt64, by amount: UInt64 = 1) {
        let mask = capacity - 1
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while true {
            let present = slots[2 * slot]
            if present == key {
                slots[2 * slot + 1] &+= amount
                return
            }
            if present == 0 { break }
            slot = (slot + 1) & mask
        }
        slots[2 * slot] = key
        slots[2 * slot + 1] = amount
        used += 1
        if used * 2 > capacity { grow() }
    }

    mutating func grow() {
        var bigger = PointerCountTable(capacity: capacity * 2)
        for slot in 0..<capacity where key(at: slot) != 0 {
            bigger.increment(key(at: slot), by: count(at: slot))
        }
        deallocate()
        self = bigger
    }
}
