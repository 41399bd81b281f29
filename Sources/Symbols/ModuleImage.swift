import ELFCore

/// The read-only, file-backed parts of a module's file on disk, addressed as the process saw
/// them. Memory the core left out (kernel cores write read-only file mappings empty, gcore
/// may omit them) is identical to these bytes; writable segments are not, since the process
/// relocated and changed them, so those never serve as a stand-in.
struct ModuleImage {
    struct Load {
        let start: UInt64
        let end: UInt64
        let fileOffset: UInt64
    }

    let module: Module
    let file: MappedFile
    /// Read-only PT_LOAD file ranges, at run-time addresses.
    let loads: [Load]

    init?(module: Module, path: String) {
        guard let file = try? MappedFile(path: path),
              let headers = ElfProgramHeaders(ByteReader(file.bytes)) else { return nil }
        let reader = ByteReader(file.bytes)
        var loads: [Load] = []
        for load in headers.loads where !load.writable && load.fileSize > 0 {
            let (start, startOverflow) = load.vaddr.addingReportingOverflow(module.loadBias)
            let (end, endOverflow) = start.addingReportingOverflow(load.fileSize)
            guard !startOverflow, !endOverflow, reader.contains(offset: load.fileOffset, length: load.fileSize) else { continue }
            loads.append(Load(start: start, end: end, fileOffset: load.fileOffset))
        }
        self.module = module
        self.file = file
        self.loads = loads
    }

    /// File bytes standing for `[address, address + count)`, clipped to the end of the load.
    func view(at address: UInt64, upTo count: Int) -> UnsafeRawBufferPointer? {
        guard let load = loads.first(where: { address >= $0.start && address < $0.end }) else { return nil }
        let available = Int(min(UInt64(count), load.end - address))
        let offset = Int(load.fileOffset + (address - load.start))
        return UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + available)])
    }
}
