/// NT_AUXV: what the kernel told the program at exec time.
public struct AuxVector: Sendable {
    public static let atPHDR: UInt64 = 3
    public static let atPageSize: UInt64 = 6
    public static let atBase: UInt64 = 7
    public static let atEntry: UInt64 = 9
    public static let atExecFN: UInt64 = 31
    public static let atSysinfoEHDR: UInt64 = 33

    public let entries: [(type: UInt64, value: UInt64)]

    public func value(_ type: UInt64) -> UInt64? { entries.first { $0.type == type }?.value }

    public var entryPoint: UInt64? { value(Self.atEntry) }
    public var programHeaders: UInt64? { value(Self.atPHDR) }
    public var pageSize: UInt64? { value(Self.atPageSize) }
    public var interpreterBase: UInt64? { value(Self.atBase) }
    public var execFileNameAddress: UInt64? { value(Self.atExecFN) }
    public var vdsoBase: UInt64? { value(Self.atSysinfoEHDR) }

    init(_ desc: ByteReader) {
        var entries: [(UInt64, UInt64)] = []
        var offset: UInt64 = 0
        while let type = desc.u64(offset), let value = desc.u64(offset + 8), type != 0 {
            entries.append((type, value))
            offset += 16
        }
        self.entries = entries
    }

    public init(entries: [(type: UInt64, value: UInt64)]) { self.entries = entries }
}
