/// A Misra-Gries summary in an open-addressing table: at most `capacity` values with counts
/// that are lower bounds of their true counts. When the table is full, every count is lowered by
/// the same amount δ (about the median count) and the values that reach zero are dropped; the sum
/// of all δ is `decrement`. A value's true count exceeds its kept count by at most `decrement`, so
/// every value occurring more than `decrement` times is still in the table.
final class HeavyHitters {
    let capacity: Int
    private let slotMask: Int
    private let keys: UnsafeMutablePointer<UInt64>
    private let counts: UnsafeMutablePointer<UInt64>
    private(set) var size = 0
    private(set) var decrement: UInt64 = 0

    /// Zero is never a key here (values below 65536 go to the direct array), so it marks an empty slot.
    static let empty: UInt64 = 0

    init(capacity: Int = 16384) {
        self.capacity = capacity
        var slots = 1
        while slots < capacity * 2 { slots <<= 1 }
        slotMask = slots - 1
        keys = .allocate(capacity: slots)
        keys.initialize(repeating: Self.empty, count: slots)
        counts = .allocate(capacity: slots)
        counts.initialize(repeating: 0, count: slots)
    }

    deinit {
        keys.deallocate()
        counts.deallocate()
    }

    @inline(__always)
    static func slot(_ value: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (value &* 0x9e37_79b9_7f4a_7c15) >> 40) & mask
    }

    func add(_ value: UInt64) {
        var slot = Self.slot(value, slotMask)
        while true {
            let key = keys[slot]
            if key == value {
                counts[slot] &+= 1
                return
            }
            if key == Self.empty {
                if size >= capacity {
                    purge()
                    add(value)
                    return
                }
                keys[slot] = value
                counts[slot] = 1
                size += 1
                return
            }
            slot = (slot + 1) & slotMask
        }
    }

    /// Lowers every count by about the median and rebuilds the table from the survivors, until at
    /// most three quarters of the capacity is in use.
    private func purge() {
        while size > capacity * 3 / 4 {
            let delta = sampledMedianCount()
            var survivors: [(UInt64, UInt64)] = []
            survivors.reserveCapacity(size)
            for slot in 0...slotMask where keys[slot] != Self.empty {
                if counts[slot] > delta { survivors.append((keys[slot], counts[slot] - delta)) }
                keys[slot] = Self.empty
                counts[slot] = 0
            }
            decrement += delta
            size = 0
            for (key, count) in survivors { insertNew(key, count) }
        }
    }

    private func insertNew(_ value: UInt64, _ count: UInt64) {
        var slot = Self.slot(value, slotMask)
        while keys[slot] != Self.empty { slot = (slot + 1) & slotMask }
        keys[slot] = value
        counts[slot] = count
        size += 1
    }

    /// The median of up to 63 counts spread over the table; at least 1.
    private func sampledMedianCount() -> UInt64 {
        var sample: [UInt64] = []
        let step = max(1, (slotMask + 1) / 256)
        var slot = 0
        while slot <= slotMask && sample.count < 63 {
            if keys[slot] != Self.empty { sample.append(counts[slot]) }
            slot += step
        }
        sample.sort()
        return max(1, sample.isEmpty ? 1 : sample[sample.count / 2])
    }

    /// Every kept value with its (lower-bound) count.
    func entries() -> [(value: UInt64, count: UInt64)] {
        (0...slotMask).compactMap { keys[$0] == Self.empty ? nil : (keys[$0], counts[$0]) }
    }
}
