import CElfutils
import Foundation

/// One-off questions about an ELF file on disk, through libelf.
enum ElfImage {
    /// The file's NT_GNU_BUILD_ID, or nil when it has none or is not ELF.
    static func buildID(path: String) -> BuildID? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard let elf = dwelf_elf_begin(descriptor) else { return nil }
        defer { elf_end(elf) }
        var bits: UnsafeRawPointer?
        let length = dwelf_elf_gnu_build_id(elf, &bits)
        guard length > 0, let bits else { return nil }
        return BuildID(Array(UnsafeRawBufferPointer(start: bits, count: length)))
    }
}
