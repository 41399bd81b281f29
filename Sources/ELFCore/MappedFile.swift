#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A whole file mapped read-only once. Segments of a core are views into this mapping, so
/// scanning never copies; one mapping is also the only way that works for gcore, which writes
/// segments at offsets that are not page aligned.
public final class MappedFile: @unchecked Sendable {
    /// The name the user gave (a path, `-`, `pid 1234`): what messages and reports show.
    public let path: String
    /// A path that opens these same bytes again for libraries that want a path or descriptor
    /// of their own: the file itself, or `/proc/self/fd/N` for an anonymous memory file.
    public let openablePath: String
    public let bytes: UnsafeRawBufferPointer
    private let mappedLength: Int
    /// Kept open only when the bytes have no name in the filesystem (see `openablePath`).
    private let retainedDescriptor: Int32
    /// What the source of the bytes lost on the way (a compressed stream that ended early):
    /// the core's own warnings start with these.
    public var sourceWarnings: [String] = []
    /// Catches reads past the end should the file shrink while mapped.
    private let shrinkGuard: MappingGuard?

    public init(path: String) throws {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever,
        // before fstat could say it is not a regular file.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw CoreError.cannotOpen(reason: Self.errnoText()) }
        defer { close(fd) }
        (bytes, mappedLength) = try Self.map(fd)
        self.path = path
        openablePath = path
        retainedDescriptor = -1
        shrinkGuard = MappingGuard(watching: bytes, name: path)
    }

    /// Maps the regular file or memory file `descriptor`, which this object then owns and
    /// closes; `name` is what the user called the input.
    public init(descriptor: Int32, name: String) throws {
        do {
            (bytes, mappedLength) = try Self.map(descriptor)
        } catch {
            close(descriptor)
            throw error
        }
        path = name
        openablePath = "/proc/self/fd/\(descriptor)"
        retainedDescriptor = descriptor
        shrinkGuard = MappingGuard(watching: bytes, name: name)
    }

    private static func map(_ fd: Int32) throws -> (UnsafeRawBufferPointer, Int) {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw CoreError.cannotOpen(reason: Self.errnoText()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw CoreError.cannotOpen(reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else { return (UnsafeRawBufferPointer(start: nil, count: 0), 0) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw CoreError.cannotOpen(reason: "mmap failed: " + Self.errnoText())
        }
        // Scans read front to back; tell the kernel so readahead keeps up on a cold cache.
        _ = madvise(base, size, MADV_SEQUENTIAL)
        return (UnsafeRawBufferPointer(start: base, count: size), size)
    }

    /// True when the file shrank while mapped and a read went past its new end (those bytes
    /// read as zeros): nothing computed from this file may be reported then.
    public var changedWhileRead: Bool { shrinkGuard?.faulted ?? false }

    deinit {
        shrinkGuard?.stop()
        if mappedLength > 0, let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        }
        if retainedDescriptor >= 0 { close(retainedDescriptor) }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
