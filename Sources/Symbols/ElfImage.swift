import CElfutils
import Foundation

/// One-off questions about an ELF file on disk, through libelf.
enum ElfImage {
    /// The file's NT_GNU_BUILD_ID, or nil when it has none or is not ELF.
    static func buildID(path: String) -> BuildID? {
        // O_NONBLOCK and the regular-file check: a FIFO at a module's path must not block.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        guard let elf = dwelf_elf_begin(descriptor) else { return nil }
        defer { elf_end(elf) }
        var bits: UnsafeRawPointer?
        let length = dwelf_elf_gnu_build_id(elf, &bits)
        guard length > 0, let bits else { return nil }
        return BuildID(Array(UnsafeRawBufferPointer(start: bits, count: length)))
    }

    /// True for a regular file (after symlinks); libdwfl opens module paths blocking, so
    /// anything else (a FIFO, a device) is never handed to it.
    static func isRegularFile(path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }
}
