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
    /// Numbers of the sizes below `directLimit` that are multiples of 8 (all of glibc's and
    /// jemalloc's small blocks), indexed by size / 8, -1 when not yet met: a heap of tens of
    /// millions of blocks is numbered twice per command, and hashing each size cost more than
    /// the rest of the pass.
    private var direct = [Int32](repeating: -1, count: Int(Self.directLimit / 8))
    private static let directLimit: UInt64 = 64 * 1024

    /// The number of `size`, assigning the next one (`sizes.count`) when it is new.
    mutating func number(of size: UInt64) -> Int {
        if lastNumber >= 0 && size == lastSize { return lastNumber }
        let number: Int
        let isDirect = size < Self.directLimit && size % 8 == 0
        if isDirect, direct[Int(size / 8)] >= 0 {
            number = Int(direct[Int(size / 8)])
        } else if !isDirect, let known = numbers[size] {
            number = known
        } else {
            number = sizes.count
            if isDirect { direct[Int(size / 8)] = Int32(number) } else { numbers[size] = number }
            sizes.append(size)
        }
        lastSize = size
        lastNumber = number
        return number
    }
}
