import CProcess
import ELFCore
#if canImport(Glibc)
import Glibc
#endif

/// Where a core that arrives as a stream (decompressed, or read from a pipe) is written so that
/// it can be mapped like a core on disk: an anonymous memory file, or with a directory a file
/// there that is unlinked at once, so nothing is left behind whatever happens to heapscan. A
/// memory file moves to a file in `$TMPDIR` (else /var/tmp) when memory runs short, so a core
/// bigger than memory is slower to read, never the reason heapscan is killed.
final class SpoolFile {
    private(set) var descriptor: Int32
    private(set) var written: UInt64 = 0
    private var inMemory: Bool
    /// Told once when the spool moves out of memory.
    private let notice: (String) -> Void
    /// Memory left to the rest of the system and to the analysis after the core is written.
    static let memoryReserve: UInt64 = 1 << 30
    /// How far pages are allocated ahead of the writes (FALLOC_FL_KEEP_SIZE: the size stays
    /// what was written). Allocating 256 MB in one call is cheaper than page by page inside
    /// write (measured 0.72 s against 0.85-1.48 s per GB on a memory file).
    private var allocated: UInt64 = 0
    private static let allocationStep: UInt64 = 256 << 20

    init(directory: String?, notice: @escaping (String) -> Void = { _ in }) throws {
        self.notice = notice
        if let directory {
            descriptor = try Self.unlinkedFile(in: directory)
            inMemory = false
        } else {
            let fd = heapscan_memfd_create("heapscan-core")
            guard fd >= 0 else { throw CoreSourceError.errno("cannot create a memory file") }
            descriptor = fd
            inMemory = true
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    private static func unlinkedFile(in directory: String) throws -> Int32 {
        let fd = SystemMemory.unlinkedFile(in: directory)
        guard fd >= 0 else { throw CoreSourceError.errno("cannot create a file in \(directory) (--tmpdir)") }
        return fd
    }

    /// Moves what is written so far from memory to a file in the temporary directory.
    private func moveToDisk() throws {
        let directory = SystemMemory.temporaryDirectory
        let file = try Self.unlinkedFile(in: directory)
        var offset: off_t = 0
        while UInt64(offset) < written {
            let count = sendfile(file, descriptor, &offset, Int(min(written - UInt64(offset), 1 << 30)))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = count < 0 ? SystemError.text() : "short copy"
                close(file)
                throw CoreSourceError("memory is short and the core cannot move to \(directory): \(reason) (use --tmpdir DIR)")
            }
        }
        close(descriptor)
        descriptor = file
        inMemory = false
        allocated = 0
        notice("memory is short: the core goes to an unlinked file in \(directory) instead (--tmpdir DIR chooses where)")
    }

    /// Appends `bytes`; a full memory or disk is one clear error naming the way out.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if written + UInt64(bytes.count) > allocated {
            if inMemory, let available = SystemMemory.availableBytes(), available < Self.allocationStep + Self.memoryReserve {
                try moveToDisk()
            }
            // Failure here is not an error: write itself reports a full memory or disk.
            if fallocate(descriptor, FALLOC_FL_KEEP_SIZE, off_t(allocated), off_t(Self.allocationStep)) == 0 {
                allocated += Self.allocationStep
            }
        }
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                let room = inMemory ? "no memory left for the core (\(written) bytes written); use --tmpdir DIR"
                                    : "no room left in --tmpdir (\(written) bytes written)"
                if code == ENOSPC || code == ENOMEM || code == EFBIG { throw CoreSourceError(room) }
                throw CoreSourceError("cannot write the core: \(SystemError.text(code))")
            }
            offset += count
            written += UInt64(count)
        }
    }

    /// Hands the descriptor over (to be mapped); this object no longer closes it.
    func take() -> Int32 {
        // Gives back the pages allocated past the end (ftruncate to the same size would not).
        if allocated > written {
            _ = fallocate(descriptor, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(written), off_t(allocated - written))
        }
        let fd = descriptor
        descriptor = -1
        return fd
    }
}
