/// Little-endian fields appended to a byte array: the headers and notes of a core image, which
/// are small (the memory itself is copied straight into the mapped image).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    var count: Int { bytes.count }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }
    mutating func raw(_ data: [UInt8]) { bytes += data }

    /// `text` in a field of exactly `length` bytes, cut or NUL padded as the kernel does.
    mutating func fixed(_ text: String, length: Int) {
        let utf8 = Array(text.utf8.prefix(length))
        bytes += utf8 + [UInt8](repeating: 0, count: length - utf8.count)
    }

    mutating func zeros(_ count: Int) { bytes += [UInt8](repeating: 0, count: count) }

    mutating func align(_ alignment: Int) {
        let remainder = bytes.count % alignment
        if remainder != 0 { zeros(alignment - remainder) }
    }
}
