/// Where the find kernels put what they find: exact counts per needle, and hit addresses while
/// `collecting` (the driver turns it off once it holds as many hits as the user asked for).
struct HitSink {
    var addresses: [UInt64] = []
    var needles: [Int32] = []
    var counts: [UInt64]
    var collecting = true

    init(needleCount: Int) {
        counts = [UInt64](repeating: 0, count: needleCount)
    }

    /// Hits counted without their addresses (only while not collecting).
    mutating func add(_ count: UInt64, needle: Int) {
        counts[needle] &+= count
    }

    mutating func record(_ address: UInt64, needle: Int) {
        counts[needle] &+= 1
        if collecting {
            addresses.append(address)
            needles.append(Int32(needle))
        }
    }
}
