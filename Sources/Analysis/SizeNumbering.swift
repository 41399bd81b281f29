/// Dense numbers for the block sizes met while walking the allocation table, so per-size
/// totals live in arrays. Neighbouring allocations mostly share a size (a slab, a run of
/// equal chunks), so the last answer is kept and the dictionary is hashed only when the size
/// changes: tens of millions of allocations then cost a comparison each.
struct SizeNumbering {
    private var numbers: [UInt64: Int] = [:]
    /// The sizes in the order they were first met; a size's number indexes this array.
    private(set) var sizes: [UInt64] = []
    private var lastSize: UInt64 = 0
    private var lastNumber = -1

    /// The number of `size`, assigning the next one (`sizes.count`) when it is new.
    mutating func number(of size: UInt64) -> Int {
        if lastNumber >= 0 && size == lastSize { return lastNumber }
        let number: Int
        if let known = numbers[size] {
            number = known
        } else {
            number = sizes.count
            numbers[size] = number
            sizes.append(size)
        }
        lastSize = size
        lastNumber = number
        return number
    }
}
