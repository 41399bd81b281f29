import ELFCore

/// A labelled address range. Usually one whole segment; a segment is split when part of it
/// is a module's .bss and the rest anonymous memory.
public struct Region: @unchecked Sendable {
    public let segmentIndex: Int
    public let start: UInt64
    public let end: UInt64
    public let label: RegionLabel
    public let permissions: Permissions
    /// The file for `file` regions; for .bss, the module whose .bss it is.
    public let path: String?
    /// True for the anonymous tail of a module's data mapping (its .bss).
    public let isBSS: Bool
    /// The thread whose stack this is, for `stack` regions.
    public let threadID: Int32?
    /// The bytes of the region that are in the core: a prefix of the range, possibly empty.
    public let bytes: UnsafeRawBufferPointer
    public let presence: Presence

    public var size: UInt64 { end - start }
    public var presentEnd: UInt64 { start + UInt64(bytes.count) }
    public var isWritable: Bool { permissions.contains(.write) }

    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }

    /// Label plus the detail that tells regions of one label apart, e.g. `file:/usr/lib/libc.so.6`.
    public var displayName: String {
        switch label {
        case .file: return (path ?? "?") + (isBSS ? " (bss)" : "")
        case .stack: return threadID.map { "stack of thread \($0)" } ?? "stack"
        default: return label.rawValue
        }
    }
}
