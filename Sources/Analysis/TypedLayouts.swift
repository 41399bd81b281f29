import Symbols

/// The pointer layouts of the dynamic types found in the heap, by vtable address point, looked
/// up once per scanned allocation (a range test, then a binary search over a few hundred vptrs).
/// Objects behind an allocator header are looked up at the header's offsets too.
public struct TypedLayouts: Sendable {
    private let vptrs: [UInt64]
    private let layouts: [PointerLayout]
    private let lowest: UInt64
    private let highest: UInt64
    /// Where objects start in allocations whose first word is no vptr (`ObjectOffsets`), ascending.
    let objectOffsets: [UInt64]
    /// `!objectOffsets.isEmpty`, read once per scanned allocation without touching the array.
    let hasObjectOffsets: Bool

    public static let none = TypedLayouts([:])

    public init(_ byVptr: [UInt64: PointerLayout], objectOffsets: [UInt64] = []) {
        self.objectOffsets = objectOffsets
        hasObjectOffsets = !objectOffsets.isEmpty
        let sorted = byVptr.sorted { $0.key < $1.key }
        vptrs = sorted.map(\.key)
        layouts = sorted.map(\.value)
        lowest = vptrs.first ?? 1
        highest = vptrs.last ?? 0
    }

    public var isEmpty: Bool { vptrs.isEmpty }
    public var count: Int { vptrs.count }

    @inline(__always)
    func layout(forFirstWord word: UInt64) -> PointerLayout? {
        guard word >= lowest, word <= highest else { return nil }
        var low = 0
        var high = vptrs.count
        while low < high {
            let middle = (low + high) >> 1
            if vptrs[middle] < word { low = middle + 1 } else { high = middle }
        }
        return low < vptrs.count && vptrs[low] == word ? layouts[low] : nil
    }
}
