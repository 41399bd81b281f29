/// Bounds-checked little-endian reads from an untrusted buffer. Every offset and length that
/// comes from the file goes through here, so a lying header yields nil instead of a trap.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var count: Int { bytes.count }

    /// True when `length` bytes starting at `offset` lie inside the buffer.
    public func contains(offset: UInt64, length: UInt64) -> Bool {
        let (end, overflow) = offset.addingReportingOverflow(length)
        return !overflow && end <= UInt64(bytes.count)
    }

    public func u8(_ offset: UInt64) -> UInt8? {
        guard contains(offset: offset, length: 1) else { return nil }
        return bytes[Int(offset)]
    }

    public func u16(_ offset: UInt64) -> UInt16? { load(offset, as: UInt16.self) }
    public func u32(_ offset: UInt64) -> UInt32? { load(offset, as: UInt32.self) }
    public func u64(_ offset: UInt64) -> UInt64? { load(offset, as: UInt64.self) }
    public func i32(_ offset: UInt64) -> Int32? { load(offset, as: Int32.self) }
    public func i16(_ offset: UInt64) -> Int16? { load(offset, as: Int16.self) }

    private func load<T: FixedWidthInteger>(_ offset: UInt64, as type: T.Type) -> T? {
        guard contains(offset: offset, length: UInt64(MemoryLayout<T>.size)) else { return nil }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: Int(offset), as: T.self))
    }

    /// A sub-range view, or nil when it does not fit.
    public func slice(_ offset: UInt64, _ length: UInt64) -> ByteReader? {
        guard contains(offset: offset, length: length) else { return nil }
        return ByteReader(UnsafeRawBufferPointer(rebasing: bytes[Int(offset)..<Int(offset + length)]))
    }

    /// A NUL-terminated string starting at `offset`, bounded by `maxLength` and the buffer end.
    public func cString(_ offset: UInt64, maxLength: Int = 4096) -> String? {
        guard offset < UInt64(bytes.count) else { return nil }
        let start = Int(offset)
        let limit = min(bytes.count, start + maxLength)
        var end = start
        while end < limit && bytes[end] != 0 { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// A fixed-size character field (like `pr_fname[16]`), cut at its first NUL.
    public func fixedString(_ offset: UInt64, length: Int) -> String? {
        guard let field = slice(offset, UInt64(length)) else { return nil }
        var end = 0
        while end < length && field.bytes[end] != 0 { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: field.bytes[0..<end]), as: UTF8.self)
    }
}
