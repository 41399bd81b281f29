/// Where each part of a core image goes: ELF header, program headers, notes, then each
/// mapping's dumped bytes at page-aligned offsets, as the kernel lays out a core.
struct CoreImageLayout {
    struct Load {
        let mapping: ProcessMapping
        let fileOffset: UInt64
        let fileSize: UInt64
    }

    static let headerSize = 64
    static let programHeaderSize = 56

    let notesOffset: UInt64
    let notesSize: UInt64
    let loads: [Load]
    let totalSize: UInt64

    init(mappings: [ProcessMapping], extents: [CoredumpFilter.Extent], notesSize: Int, pageSize: UInt64) throws {
        // e_phnum is 16 bits; beyond that the kernel moves the count to a section header.
        guard mappings.count < 0xFFFF else {
            throw CoreSourceError("the process has \(mappings.count) mappings, more than an ELF core header can count")
        }
        notesOffset = UInt64(Self.headerSize + Self.programHeaderSize * (1 + mappings.count))
        self.notesSize = UInt64(notesSize)
        var offset = (notesOffset + self.notesSize + pageSize - 1) / pageSize * pageSize
        var loads: [Load] = []
        loads.reserveCapacity(mappings.count)
        for (mapping, extent) in zip(mappings, extents) {
            let size: UInt64
            switch extent {
            case .whole: size = mapping.size
            case .firstPage: size = min(pageSize, mapping.size)
            case .none: size = 0
            }
            loads.append(Load(mapping: mapping, fileOffset: offset, fileSize: size))
            offset += size
        }
        self.loads = loads
        totalSize = offset
    }

    /// The ELF header and program headers.
    func headers(machine: UInt16, pageSize: UInt64) -> [UInt8] {
        var out = ByteWriter()
        out.raw([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0])  // ELF, 64-bit, little-endian, version 1, SysV
        out.zeros(8)
        out.u16(4)  // ET_CORE
        out.u16(machine)
        out.u32(1)
        out.u64(0)  // e_entry
        out.u64(UInt64(Self.headerSize))
        out.u64(0)  // e_shoff
        out.u32(0)  // e_flags
        out.u16(UInt16(Self.headerSize))
        out.u16(UInt16(Self.programHeaderSize))
        out.u16(UInt16(1 + loads.count))
        out.u16(64)  // e_shentsize, as the kernel writes it
        out.u16(0)
        out.u16(0)
        programHeader(&out, type: 4, flags: 0, offset: notesOffset, address: 0, fileSize: notesSize, memorySize: 0, align: 0)
        for load in loads {
            let mapping = load.mapping
            let flags = UInt32((mapping.readable ? 4 : 0) | (mapping.writable ? 2 : 0) | (mapping.executable ? 1 : 0))
            programHeader(&out, type: 1, flags: flags, offset: load.fileOffset, address: mapping.start,
                          fileSize: load.fileSize, memorySize: mapping.size, align: pageSize)
        }
        return out.bytes
    }

    private func programHeader(_ out: inout ByteWriter, type: UInt32, flags: UInt32, offset: UInt64, address: UInt64,
                               fileSize: UInt64, memorySize: UInt64, align: UInt64) {
        out.u32(type)
        out.u32(flags)
        out.u64(offset)
        out.u64(address)
        out.u64(0)  // p_paddr
        out.u64(fileSize)
        out.u64(memorySize)
        out.u64(align)
    }
}
