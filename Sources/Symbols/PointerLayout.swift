/// Which 8-byte words of an object of one type can hold a pointer, from its DWARF type:
/// pointers and references, pointer-sized integers, unions and anything not understood; never
/// characters, narrower integers, floats or padding.
public struct PointerLayout: Sendable, Equatable {
    /// `sizeof(T)`.
    public let size: UInt64
    /// Word indices (byte offset / 8) that can hold a pointer, ascending.
    public let pointerSlots: [UInt32]
    /// Parallel to `pointerSlots`: the word is declared a pointer or reference (not an integer,
    /// a union or raw storage that may hold one).
    public let isDeclaredPointer: [Bool]

    public init(size: UInt64, pointerSlots: [UInt32], isDeclaredPointer: [Bool]? = nil) {
        self.size = size
        self.pointerSlots = pointerSlots
        self.isDeclaredPointer = isDeclaredPointer ?? [Bool](repeating: false, count: pointerSlots.count)
    }
}
