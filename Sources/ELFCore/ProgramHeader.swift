/// One ELF64 program header, exactly as the file states it (not yet trusted).
public struct ProgramHeader: Sendable {
    public static let ptLoad: UInt32 = 1
    public static let ptNote: UInt32 = 4

    public let type: UInt32
    public let flags: UInt32
    public let offset: UInt64
    public let virtualAddress: UInt64
    public let fileSize: UInt64
    public let memorySize: UInt64

    init?(_ file: ByteReader, at entryOffset: UInt64) {
        guard let type = file.u32(entryOffset), let flags = file.u32(entryOffset &+ 4),
              let offset = file.u64(entryOffset &+ 8), let vaddr = file.u64(entryOffset &+ 16),
              let filesz = file.u64(entryOffset &+ 32), let memsz = file.u64(entryOffset &+ 40)
        else { return nil }
        self.type = type
        self.flags = flags
        self.offset = offset
        self.virtualAddress = vaddr
        self.fileSize = filesz
        self.memorySize = memsz
    }
}
