/// The processor a core was written on. Register layouts in notes depend on it.
public enum Machine: String, Sendable, Codable {
    case x86_64 = "x86-64"
    case aarch64 = "aarch64"

    static let emX86_64: UInt16 = 62
    static let emAArch64: UInt16 = 183
}

/// The fields of the ELF64 file header a core reader needs, validated.
public struct ELFHeader: Sendable {
    public static let size: UInt64 = 64
    static let etCore: UInt16 = 4
    static let pnXNum: UInt16 = 0xffff
    static let programHeaderSize: UInt16 = 56
    static let sectionHeaderSize: UInt16 = 64

    public let machine: Machine
    public let programHeaderOffset: UInt64
    public let programHeaderCount: UInt64
    public let sectionHeaderOffset: UInt64

    /// Parses and validates the header, resolving extended program header numbering.
    public init(_ file: ByteReader) throws {
        let fileSize = UInt64(file.count)
        guard file.count >= 4, file.bytes[0] == 0x7f, file.bytes[1] == 0x45,
              file.bytes[2] == 0x4c, file.bytes[3] == 0x46 else { throw CoreError.notELF }
        guard let elfClass = file.u8(4) else { throw CoreError.notELF }
        guard elfClass == 2 else { throw CoreError.unsupportedClass(elfClass) }
        guard let data = file.u8(5) else { throw CoreError.notELF }
        guard data == 1 else { throw CoreError.unsupportedByteOrder(data) }
        guard file.contains(offset: 0, length: Self.size),
              let type = file.u16(16), let machineCode = file.u16(18),
              let phoff = file.u64(32), let shoff = file.u64(40),
              let phentsize = file.u16(54), let phnum = file.u16(56)
        else { throw CoreError.truncated(what: "ELF header", needed: Self.size, fileSize: fileSize) }
        guard type == Self.etCore else { throw CoreError.notACore(elfType: type) }
        switch machineCode {
        case Machine.emX86_64: machine = .x86_64
        case Machine.emAArch64: machine = .aarch64
        default: throw CoreError.unsupportedMachine(machineCode)
        }
        programHeaderOffset = phoff
        sectionHeaderOffset = shoff

        if phnum == Self.pnXNum {
            // Extended numbering: more than 65534 segments, the real count is sh_info of section 0.
            guard shoff != 0 else {
                throw CoreError.malformed("e_phnum is PN_XNUM but there is no section header")
            }
            guard let shInfo = file.u32(shoff &+ 44), file.contains(offset: shoff, length: 64) else {
                throw CoreError.truncated(
                    what: "section header 0 (PN_XNUM count) at offset \(shoff)",
                    needed: shoff.addingReportingOverflow(64).partialValue, fileSize: fileSize)
            }
            programHeaderCount = UInt64(shInfo)
        } else {
            programHeaderCount = UInt64(phnum)
        }
        if programHeaderCount > 0 && phentsize != Self.programHeaderSize {
            throw CoreError.malformed("program header entry size is \(phentsize), expected 56")
        }
        let (tableSize, sizeOverflow) = programHeaderCount.multipliedReportingOverflow(by: 56)
        let (tableEnd, endOverflow) = phoff.addingReportingOverflow(tableSize)
        if sizeOverflow || endOverflow {
            throw CoreError.malformed("program header table offset \(phoff) overflows")
        }
        if tableEnd > fileSize {
            throw CoreError.truncated(
                what: "program header table (\(programHeaderCount) entries at offset \(phoff))",
                needed: tableEnd, fileSize: fileSize)
        }
    }
}
