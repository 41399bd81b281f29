/// Access rights of a mapping, as the process had them.
public struct Permissions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let execute = Permissions(rawValue: 1)
    public static let write = Permissions(rawValue: 2)
    public static let read = Permissions(rawValue: 4)

    /// `rwx` style, like /proc/PID/maps.
    public var text: String {
        (contains(.read) ? "r" : "-") + (contains(.write) ? "w" : "-") + (contains(.execute) ? "x" : "-")
    }
}

/// How much of a mapping's memory the core actually holds.
public enum Presence: String, Sendable, Codable {
    /// Every byte of the mapping is in the file.
    case complete
    /// The core declares fewer file bytes than memory bytes: the tail was not dumped.
    case partial
    /// Nothing was dumped (kernel cores of read-only file mappings, filtered mappings).
    case notDumped = "not-dumped"
    /// The core promised bytes that the file is too short to hold.
    case truncated
}

/// A PT_LOAD segment: a range of the process's address space and the file bytes backing it.
/// `bytes` is a zero-copy view into the mapped core and only covers memory that is present;
/// addresses past `presentEnd` are "not in core", never zeros.
public struct Segment: @unchecked Sendable {
    public let index: Int
    public let start: UInt64
    public let end: UInt64
    public let permissions: Permissions
    public let fileOffset: UInt64
    public let declaredFileSize: UInt64
    public let bytes: UnsafeRawBufferPointer
    public let presence: Presence

    public var memorySize: UInt64 { end - start }
    public var presentSize: UInt64 { UInt64(bytes.count) }
    public var presentEnd: UInt64 { start + presentSize }

    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }

    /// A view of present bytes in `[address, address + count)`, or nil if any of it is absent.
    public func view(at address: UInt64, count: Int) -> UnsafeRawBufferPointer? {
        guard address >= start, count >= 0 else { return nil }
        let offset = address - start
        let (last, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard !overflow, last <= presentSize else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[Int(offset)..<Int(last)])
    }
}
