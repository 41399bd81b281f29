import ELFCore

/// Where a loaded module's writable data ends, read from the module's own ELF headers as the
/// core holds them (gcore and the kernel dump the first page of each mapped ELF file). The
/// anonymous mapping that follows a module's data up to that end is its .bss, a root for leak
/// analysis, not heap.
struct ModuleExtent {
    let path: String
    let loadBias: UInt64
    let dataEnd: UInt64

    static let ptLoad: UInt32 = 1

    /// Reads the ELF header of a module mapped at `base`, or nil when it is absent or invalid.
    static func read(at base: UInt64, path: String, memory: AddressSpace, pageSize: UInt64) -> ModuleExtent? {
        guard memory.readU32(base) == 0x464c_457f, memory.readU8(base + 4) == 2,
              let phoff = memory.readU64(base + 32), let phentsize = memory.readU16(base + 54),
              let phnum = memory.readU16(base + 56), phentsize == 56, phnum > 0, phnum < 256,
              phoff < 0x10000 else { return nil }
        var lowest = UInt64.max
        var highestEnd: UInt64 = 0
        for index in 0..<UInt64(phnum) {
            let entry = base + phoff + index * 56
            guard let type = memory.readU32(entry) else { return nil }
            guard type == ptLoad, let vaddr = memory.readU64(entry + 16),
                  let memsz = memory.readU64(entry + 40) else { continue }
            let (end, overflow) = vaddr.addingReportingOverflow(memsz)
            guard !overflow else { return nil }
            lowest = min(lowest, vaddr)
            highestEnd = max(highestEnd, end)
        }
        guard lowest != UInt64.max else { return nil }
        let mask = pageSize - 1
        let bias = base &- (lowest & ~mask)
        let (rawEnd, overflow) = bias.addingReportingOverflow(highestEnd)
        guard !overflow, rawEnd <= UInt64.max - mask else { return nil }
        return ModuleExtent(path: path, loadBias: bias, dataEnd: (rawEnd + mask) & ~mask)
    }
}
