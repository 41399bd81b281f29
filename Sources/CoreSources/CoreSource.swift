import ELFCore
#if canImport(Glibc)
import Glibc
#endif

/// How inputs that are not a plain core on disk are turned into one.
public struct SourceOptions: Sendable {
    /// Where to spool a decompressed or piped core instead of memory (`--tmpdir`).
    public var spoolDirectory: String?
    /// Show progress on stderr even when it is not a terminal (`--progress`).
    public var showProgress: Bool

    public init(spoolDirectory: String? = nil, showProgress: Bool = false) {
        self.spoolDirectory = spoolDirectory
        self.showProgress = showProgress
    }
}

/// Turns what the user names as a core into the bytes of one ELF core for `CoreFile`: a core on
/// disk is mapped as it is; a compressed core (by its magic bytes, not its name), stdin (`-`)
/// and a FIFO or process substitution are decompressed or copied into a spool file first, so
/// every command sees the same core image whatever it came in.
public enum CoreSource {
    static let inputChunk = 1 << 20
    static let outputChunk = 4 << 20

    /// `allowStream`: whether `name` may be `-` or a FIFO, read as a stream. Only one input of a
    /// command can be; every other path must be a regular file, checked without blocking.
    public static func open(_ name: String, options: SourceOptions = SourceOptions(),
                            allowStream: Bool = true) throws -> MappedFile {
        if name == "-" {
            guard allowStream else { throw CoreSourceError("stdin can only be the core of a one-core command") }
            guard isatty(0) == 0 else { throw CoreSourceError("stdin is a terminal; pipe a core into heapscan") }
            return try spool(0, name: name, knownSize: nil, options: options)
        }
        // O_NONBLOCK: a FIFO without a writer would otherwise block this open forever.
        let fd = Glibc.open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw CoreError.cannotOpen(reason: SystemError.text()) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let reason = SystemError.text()
            close(fd)
            throw CoreError.cannotOpen(reason: reason)
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            defer { close(fd) }
            guard try peekFormat(fd) != nil else { return try MappedFile(path: name) }
            return try spool(fd, name: name, knownSize: UInt64(status.st_size), options: options)
        case S_IFIFO, S_IFSOCK:
            guard allowStream else {
                close(fd)
                throw CoreError.cannotOpen(reason: "not a regular file (only the core of a one-core command may be a pipe)")
            }
            // Reopened blocking: reading is now meant to wait for the writer, as `cat` would. The
            // probe stays open until then: a writer that connected to it would otherwise see its
            // only reader go away and die of SIGPIPE, leaving this open waiting forever.
            let stream = Glibc.open(name, O_RDONLY | O_CLOEXEC)
            close(fd)
            guard stream >= 0 else { throw CoreError.cannotOpen(reason: SystemError.text()) }
            defer { close(stream) }
            return try spool(stream, name: name, knownSize: nil, options: options)
        default:
            close(fd)
            throw CoreError.cannotOpen(reason: "not a regular file")
        }
    }

    /// The compression of the regular file `fd`, from its first bytes.
    private static func peekFormat(_ fd: Int32) throws -> CompressionFormat? {
        var prefix = [UInt8](repeating: 0, count: CompressionFormat.longestMagic)
        let count = prefix.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw CoreError.cannotOpen(reason: SystemError.text()) }
        return prefix.withUnsafeBytes { CompressionFormat.detect(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// Reads `fd` to its end into a spool file, decompressing when its first bytes say so.
    private static func spool(_ fd: Int32, name: String, knownSize: UInt64?, options: SourceOptions) throws -> MappedFile {
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: inputChunk, alignment: 64)
        defer { input.deallocate() }
        // A pipe may deliver fewer bytes per read than the longest magic.
        var filled = 0
        while filled < CompressionFormat.longestMagic {
            let count = try readSome(fd, into: UnsafeMutableRawBufferPointer(rebasing: input[filled...]))
            if count == 0 { break }
            filled += count
        }
        let format = CompressionFormat.detect(UnsafeRawBufferPointer(rebasing: input[0..<filled]))
        let spool = try SpoolFile(directory: options.spoolDirectory) { notice in
            fputs("heapscan: \(name): \(notice)\n", stderr)
        }
        let progress = Progress(label: format.map { "decompressing (\($0.rawValue))" } ?? "reading",
                                total: knownSize, requested: options.showProgress)
        var consumed: UInt64 = 0
        var chunk = filled
        var truncation: String?
        if let format {
            let decoder = try format.makeDecoder()
            let output = UnsafeMutableRawBufferPointer.allocate(byteCount: outputChunk, alignment: 64)
            defer { output.deallocate() }
            while chunk > 0 {
                try decoder.decode(UnsafeRawBufferPointer(rebasing: input[0..<chunk]), into: output) { try spool.write($0) }
                consumed += UInt64(chunk)
                progress.update(read: consumed, produced: spool.written)
                chunk = try readSome(fd, into: input)
            }
            do {
                try decoder.finish(into: output) { try spool.write($0) }
            } catch let error as CoreSourceError where error.isTruncation && spool.written > 0 {
                // A core cut short (a full disk while it was written, a copy interrupted) is
                // still a core: what was decompressed is analysed as a truncated core, as gdb
                // reads one, and the loss is said once.
                truncation = "\(error.description); analysing the first \(spool.written) bytes of the core"
            }
        } else {
            while chunk > 0 {
                try spool.write(UnsafeRawBufferPointer(rebasing: input[0..<chunk]))
                consumed += UInt64(chunk)
                progress.update(read: consumed, produced: spool.written)
                chunk = try readSome(fd, into: input)
            }
        }
        progress.finish(read: consumed, produced: spool.written)
        let file = try MappedFile(descriptor: spool.take(), name: name)
        if let truncation { file.sourceWarnings.append(truncation) }
        return file
    }

    /// One read(2), retried on EINTR; 0 at the end of the input.
    private static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw CoreSourceError.errno("cannot read") }
        }
    }
}
