import ELFCore

/// libelf and libdw trust the ELF image they are handed; an in-core module image is whatever
/// bytes the core holds at the module's address, and a damaged core (one wrong p_offset puts
/// the core's own header there) makes `dwarf_begin_elf` read far outside it. An image is used
/// only when its headers describe bytes inside it.
enum ModuleImageCheck {
    /// Why the 64-bit little-endian ELF image `bytes` must not be handed to libdw, or nil.
    static func problem(in bytes: ByteReader, machine: UInt16?) -> String? {
        guard bytes.u32(0) == 0x464c_457f, bytes.u8(4) == 2, bytes.u8(5) == 1 else { return "no 64-bit little-endian ELF header" }
        guard let type = bytes.u16(16), type == 2 || type == 3 else { return "ELF type is not an executable or shared object" }
        if let machine, let own = bytes.u16(18), own != machine { return "machine \(own), the core's is \(machine)" }
        guard let phoff = bytes.u64(32), let shoff = bytes.u64(40), let phentsize = bytes.u16(54), let phnum = bytes.u16(56),
              let shentsize = bytes.u16(58), let shnum = bytes.u16(60), let shstrndx = bytes.u16(62) else {
            return "ELF header cut short"
        }
        if phnum > 0 {
            guard phentsize == 56, phnum != 0xffff, bytes.contains(offset: phoff, length: UInt64(phnum) * 56) else {
                return "program headers (\(phnum) at \(hex(phoff))) lie outside the image"
            }
            for index in 0..<UInt64(phnum) {
                let entry = phoff + index * 56
                guard let segmentType = bytes.u32(entry), let offset = bytes.u64(entry + 8),
                      let fileSize = bytes.u64(entry + 32) else { return "program header \(index) cut short" }
                // Loaded contents, the dynamic section and notes are what libelf and libdw read.
                if [1, 2, 4].contains(segmentType), fileSize > 0, !bytes.contains(offset: offset, length: fileSize) {
                    return "program header \(index) describes \(fileSize) bytes at \(hex(offset)), outside the image"
                }
            }
        }
        if shoff != 0 || shnum != 0 {
            guard shentsize == 64, shnum > 0, bytes.contains(offset: shoff, length: UInt64(shnum) * 64) else {
                return "section headers (\(shnum) at \(hex(shoff))) lie outside the image"
            }
            guard shstrndx < shnum else { return "section name table index \(shstrndx) of \(shnum) sections" }
            // The entries themselves are not checked: the process never mapped the section
            // headers, so a sound image holds other bytes there, and libdw copes with those.
        }
        return nil
    }
}
