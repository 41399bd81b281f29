import ELFCore

/// The PT_LOAD entries of a 64-bit little-endian ELF file, read bounds-checked from its bytes.
struct ElfProgramHeaders {
    struct Load {
        let vaddr: UInt64
        let fileOffset: UInt64
        let fileSize: UInt64
        let writable: Bool
    }

    static let ptLoad: UInt32 = 1
    static let pfWrite: UInt32 = 2

    let loads: [Load]

    init?(_ reader: ByteReader) {
        guard reader.u32(0) == 0x464c_457f, reader.u8(4) == 2, reader.u8(5) == 1,
              let tableOffset = reader.u64(32), reader.u16(54) == 56,
              let count = reader.u16(56) else { return nil }
        var loads: [Load] = []
        for index in 0..<UInt64(count) {
            let (entry, overflow) = tableOffset.addingReportingOverflow(index * 56)
            guard !overflow, let type = reader.u32(entry), let flags = reader.u32(entry + 4),
                  let offset = reader.u64(entry + 8), let vaddr = reader.u64(entry + 16),
                  let fileSize = reader.u64(entry + 32) else { return nil }
            guard type == Self.ptLoad else { continue }
            loads.append(Load(vaddr: vaddr, fileOffset: offset, fileSize: fileSize, writable: flags & Self.pfWrite != 0))
        }
        self.loads = loads
    }

    /// Load bias of a file whose first PT_LOAD's page was mapped at `start`.
    func bias(loadedAt start: UInt64, pageSize: UInt64 = 4096) -> UInt64? {
        guard let lowest = loads.map(\.vaddr).min() else { return nil }
        return start &- (lowest & ~(pageSize - 1))
    }
}
