/// A value at a fixed offset in allocations of one block size: the signature of a C struct
/// with a magic field.
struct MagicKey: Hashable, Comparable {
    let blockSize: UInt64
    let width: Int
    let offset: Int
    let value: UInt64

    static func < (lhs: MagicKey, rhs: MagicKey) -> Bool {
        (lhs.blockSize, lhs.offset, -lhs.width, lhs.value) < (rhs.blockSize, rhs.offset, -rhs.width, rhs.value)
    }

    /// True when this 4-byte key is one half of the 8-byte key `wide`.
    func isHalf(of wide: MagicKey) -> Bool {
        guard width == 4, wide.width == 8, blockSize == wide.blockSize else { return false }
        if offset == wide.offset { return value == wide.value & 0xffff_ffff }
        if offset == wide.offset + 4 { return value == wide.value >> 32 }
        return false
    }

    /// Reads this key's field from an allocation's leading bytes.
    func matches(_ head: UnsafeRawBufferPointer) -> Bool {
        guard offset + width <= head.count else { return false }
        let field = width == 8
            ? head.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            : UInt64(head.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        return field == value
    }
}
