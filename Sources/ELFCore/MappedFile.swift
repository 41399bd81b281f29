#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A whole file mapped read-only once. Segments of a core are views into this mapping, so
/// scanning never copies; one mapping is also the only way that works for gcore, which writes
/// segments at offsets that are not page aligned.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    private let mappedLength: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CoreError.cannotOpen(reason: Self.errnoText()) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw CoreError.cannotOpen(reason: Self.errnoText()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw CoreError.cannotOpen(reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            mappedLength = 0
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw CoreError.cannotOpen(reason: "mmap failed: " + Self.errnoText())
        }
        // Scans read front to back; tell the kernel so readahead keeps up on a cold cache.
        _ = madvise(base, size, MADV_SEQUENTIAL)
        bytes = UnsafeRawBufferPointer(start: base, count: size)
        mappedLength = size
    }

    deinit {
        if mappedLength > 0, let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
