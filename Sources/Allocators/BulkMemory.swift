import ELFCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Zero-filled memory for the per-allocation structures of a leak hunt (the allocation table,
/// the mark state, `explain`'s parents). When they would not fit in the memory the system has
/// available, they live in a shared mapping of an unlinked file in `$TMPDIR`: the kernel then
/// writes their pages out instead of running out of memory, and the file is gone with the process.
public final class BulkMemory: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int
    public let isFileBacked: Bool

    /// `inFile`: a file mapping (falls back to memory when no file can be made).
    public init(byteCount: Int, inFile: Bool) {
        let size = max(byteCount, 1)
        self.byteCount = size
        if inFile, let mapped = Self.mapUnlinkedFile(bytes: size) {
            base = mapped
            isFileBacked = true
        } else {
            // Anonymous pages are zero and cost nothing until touched, like the file's.
            let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let mapped, mapped != MAP_FAILED else { fatalError("out of memory for \(size) bytes") }
            base = mapped
            isFileBacked = false
        }
    }

    deinit { munmap(base, byteCount) }

    private static func mapUnlinkedFile(bytes: Int) -> UnsafeMutableRawPointer? {
        let descriptor = SystemMemory.unlinkedFile(in: SystemMemory.temporaryDirectory)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(bytes)) == 0 else { return nil }
        let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else { return nil }
        return mapped
    }
}
