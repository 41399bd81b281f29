import ELFCore
import Symbols

/// The pointer layouts of the typed view (`TypedView`): the dynamic types found in the heap by
/// vtable address point, looked up once per scanned allocation (a range test, then a binary
/// search over a few hundred vptrs), and the structs typed pointers lead to, by id. Objects
/// behind an allocator header are looked up at the header's offsets too.
public struct TypedLayouts: Sendable {
    private let vptrs: [UInt64]
    private let vptrLayouts: [Int32]
    private let layouts: [PointerLayout]
    private let lowest: UInt64
    private let highest: UInt64
    private let rootAddresses: [UInt64]
    private let rootPointees: [Int32]
    /// Where objects start in allocations whose first word is no vptr (`ObjectOffsets`), ascending.
    let objectOffsets: [UInt64]
    /// `!objectOffsets.isEmpty`, read once per scanned allocation without touching the array.
    let hasObjectOffsets: Bool

    public static let none = TypedLayouts(.empty)

    public init(_ view: TypedView, objectOffsets: [UInt64] = []) {
        self.objectOffsets = objectOffsets
        hasObjectOffsets = !objectOffsets.isEmpty
        let sorted = view.layoutByVptr.sorted { $0.key < $1.key }
        vptrs = sorted.map(\.key)
        vptrLayouts = sorted.map(\.value)
        layouts = view.layouts
        lowest = vptrs.first ?? 1
        highest = vptrs.last ?? 0
        rootAddresses = view.rootAddresses
        rootPointees = view.rootPointees
    }

    /// Layouts given by vptr alone, without pointees (tests, benchmarks).
    public init(_ byVptr: [UInt64: PointerLayout], objectOffsets: [UInt64] = []) {
        let entries = Array(byVptr)
        self.init(TypedView(layouts: entries.map(\.value),
                            layoutByVptr: Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.key, Int32($0)) })),
                  objectOffsets: objectOffsets)
    }

    public var isEmpty: Bool { vptrs.isEmpty && layouts.isEmpty }
    /// Classes with a layout among the heap's dynamic types.
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
        return low < vptrs.count && vptrs[low] == word ? layouts[Int(vptrLayouts[low])] : nil
    }

    func layout(id: Int32) -> PointerLayout { layouts[Int(id)] }

    /// The struct a module data word at `address` is declared to point to, or -1.
    func rootPointee(at address: UInt64) -> Int32 {
        let index = rootAddresses.firstIndex(keyAtLeast: address) { $0 }
        return index < rootAddresses.count && rootAddresses[index] == address ? rootPointees[index] : -1
    }
}
