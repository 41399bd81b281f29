/// Exact counts for a bounded number of distinct word values (open addressing, linear probing).
/// Values must be non-zero: zero marks an empty slot.
final class CountTable {
    let capacity: Int
    let slotMask: Int
    let keys: UnsafeMutablePointer<UInt64>
    let counts: UnsafeMutablePointer<UInt64>
    private(set) var size = 0

    init(capacity: Int) {
        self.capacity = capacity
        var slots = 1
        while slots < capacity * 2 { slots <<= 1 }
        slotMask = slots - 1
        keys = .allocate(capacity: slots)
        keys.initialize(repeating: 0, count: slots)
        counts = .allocate(capacity: slots)
        counts.initialize(repeating: 0, count: slots)
    }

    deinit {
        keys.deallocate()
        counts.deallocate()
    }

    var slotCount: Int { slotMask + 1 }

    /// Counts one occurrence; false when `value` is new and the table is full.
    @inline(__always)
    func increment(_ value: UInt64) -> Bool {
        var slot = HeavyHitters.slot(value, slotMask)
        while true {
            let key = keys[slot]
            if key == value {
                counts[slot] &+= 1
                return true
            }
            if key == 0 {
                guard size < capacity else { return false }
                keys[slot] = value
                counts[slot] = 1
                size += 1
                return true
            }
            slot = (slot + 1) & slotMask
        }
    }

    /// The slot holding `value`, or nil.
    @inline(__always)
    func slot(of value: UInt64) -> Int? { Self.slot(of: value, keys: keys, mask: slotMask) }

    /// `slot(of:)` on a table's raw keys, for loops that must not touch the table object (its
    /// reference count is shared by all threads).
    @inline(__always)
    static func slot(of value: UInt64, keys: UnsafeMutablePointer<UInt64>, mask slotMask: Int) -> Int? {
        var slot = HeavyHitters.slot(value, slotMask)
        while true {
            let key = keys[slot]
            if key == value { return slot }
            if key == 0 { return nil }
            slot = (slot + 1) & slotMask
        }
    }

    func reset() {
        keys.update(repeating: 0, count: slotCount)
        counts.update(repeating: 0, count: slotCount)
        size = 0
    }

    func entries() -> [WordCount] {
        (0...slotMask).compactMap { keys[$0] == 0 ? nil : WordCount(value: keys[$0], count: counts[$0]) }
    }
}
