/// Counts how often each distinct 8-byte-aligned word that points into an `AddressFilter`'s
/// ranges occurs in memory, in one pass at memory speed (see `ClusterScan`). Used for the
/// vtable census: heap words pointing into module data are counted, then only the distinct
/// values are examined.
public final class PointerCensus {
    public let filter: AddressFilter
    private var table: CountTable

    public init(filter: AddressFilter) {
        self.filter = filter
        table = CountTable(capacity: 1024)
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
        for slot in 0..<table.capacity where table.keys[slot] != 0 && filter.contains(table.keys[slot]) {
            result.append((table.keys[slot], Int(table.counts[slot])))
        }
        return result.sorted { $0.value < $1.value }
    }
}

/// Open-addressing counts keyed by nonzero words (0 marks an empty slot; no range starts at 0).
struct CountTable: ClusterHitHandler {
    var keys: UnsafeMutablePointer<UInt64>
    var counts: UnsafeMutablePointer<UInt64>
    var capacity: Int
    var used = 0

    init(capacity: Int) {
        self.capacity = capacity
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        counts = .allocate(capacity: capacity)
        counts.initialize(repeating: 0, count: capacity)
    }

    func deallocate() {
        keys.deallocate()
        counts.deallocate()
    }

    @inline(__always)
    mutating func record(_ word: UInt64, at offset: Int) { increment(word) }

    @inline(__always)
    mutating func increment(_ key: UInt64, by amount: UInt64 = 1) {
        let mask = capacity - 1
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while true {
            let present = keys[slot]
            if present == key {
                counts[slot] &+= amount
                return
            }
            if present == 0 { break }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        counts[slot] = amount
        used += 1
        if used * 2 > capacity { grow() }
    }

    mutating func grow() {
        var bigger = CountTable(capacity: capacity * 2)
        for slot in 0..<capacity where keys[slot] != 0 {
            bigger.increment(keys[slot], by: counts[slot])
        }
        deallocate()
        self = bigger
    }
}
