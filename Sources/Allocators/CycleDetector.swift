/// Brent's cycle detection for a walk that visits one value per step: `see` answers true when
/// the walk has come back to a value it visited, after at most twice the list's length.
struct CycleDetector {
    private var saved: UInt64?
    private var power = 1
    private var length = 0

    mutating func see(_ value: UInt64) -> Bool {
        if value == saved { return true }
        length += 1
        if length == power {
            saved = value
            power &*= 2
            length = 0
        }
        return false
    }
}

/// The walk of a linked list recorded in `members` (from `start`) came back to a value: where
/// its distinct prefix ends (the first repeat), found from the recorded members alone.
func distinctPrefixLength(_ members: ArraySlice<UInt64>) -> Int {
    var firstIndex: [UInt64: Int] = [:]
    for (offset, value) in members.enumerated() {
        if firstIndex[value] != nil { return offset }
        firstIndex[value] = offset
    }
    return members.count
}
