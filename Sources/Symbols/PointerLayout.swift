/// Which 8-byte words of an object of one type can hold a pointer, from its DWARF type:
/// pointers and references, pointer-sized integers, unions and anything not understood; never
/// characters, narrower integers, floats or padding.
///
/// A class: the mark loop looks a layout up per scanned object, and a struct of six arrays
/// would cost six reference counts per lookup where a class costs one.
public final class PointerLayout: Sendable, Equatable {
    /// `sizeof(T)`.
    public let size: UInt64
    /// Word indices (byte offset / 8) that can hold a pointer, ascending.
    public let pointerSlots: [UInt32]
    /// Parallel to `pointerSlots`: the word is declared a pointer or reference (not an integer,
    /// a union or raw storage that may hold one).
    public let isDeclaredPointer: [Bool]
    /// Parallel to `pointerSlots`: the layout (in the `TypedView` that made this one) of the
    /// struct the word is declared to point to, or -1: a pointer to void, a scalar, a class with
    /// a vtable (its objects name their own type) or a struct without a definition here.
    public let pointees: [Int32]
    /// Where the object holds a struct or class (itself at 0, its bases, its members, array
    /// elements), by `TypeKey`, ascending by offset: a pointer to a struct of type U that points
    /// at offset o of this object is consistent only when a U lies at o.
    public let subobjects: [TypedSubobject]
    /// Bytes where any type may live (unions, placement-new storage): pointers into them are
    /// always consistent.
    public let opaque: [Range<UInt64>]

    /// A pointer element (a `T*` pointed to by a `T**`): a block of them is an array, every whole
    /// element scanned through this layout.
    public let isPointerElement: Bool

    /// Some struct of the module begins with this one (as its first member or base) and is
    /// larger: a pointer to this type may point to that one (C's way of deriving), whose own
    /// members then lie past `size`, so a block of this type is never cut at `size`.
    public let mayBeEmbedded: Bool

    public init(size: UInt64, pointerSlots: [UInt32], isDeclaredPointer: [Bool]? = nil, pointees: [Int32]? = nil,
                subobjects: [TypedSubobject] = [], opaque: [Range<UInt64>] = [0..<UInt64.max], isPointerElement: Bool = false,
                mayBeEmbedded: Bool = true) {
        self.isPointerElement = isPointerElement
        self.mayBeEmbedded = mayBeEmbedded
        self.size = size
        self.pointerSlots = pointerSlots
        self.isDeclaredPointer = isDeclaredPointer ?? [Bool](repeating: false, count: pointerSlots.count)
        self.pointees = pointees ?? [Int32](repeating: -1, count: pointerSlots.count)
        self.subobjects = subobjects
        self.opaque = opaque
    }

    public static func == (left: PointerLayout, right: PointerLayout) -> Bool {
        left.size == right.size && left.pointerSlots == right.pointerSlots && left.isDeclaredPointer == right.isDeclaredPointer
            && left.pointees == right.pointees && left.subobjects == right.subobjects && left.opaque == right.opaque
            && left.isPointerElement == right.isPointerElement && left.mayBeEmbedded == right.mayBeEmbedded
    }

    /// The type itself: the first subobject at offset 0 is the object.
    public var ownKey: TypeKey? { subobjects.first.flatMap { $0.offset == 0 ? $0.type : nil } }

    /// Whether a pointer declared as pointing to a struct of type `key` may point at `offset`
    /// of an object of this type.
    public func admits(_ key: TypeKey, at offset: UInt64) -> Bool {
        if offset >= size || opaque.contains(where: { $0.contains(offset) }) { return true }
        return subobjects.contains { $0.offset == offset && $0.type == key }
    }
}

/// A struct or class by name and size, the same in every compilation unit that defines it.
public struct TypeKey: Sendable, Hashable {
    public let value: UInt64

    public init(name: String, size: UInt64) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        value = (hash ^ size) &* 0x100_0000_01b3
    }
}

public struct TypedSubobject: Sendable, Equatable {
    public let offset: UInt64
    public let type: TypeKey
}
