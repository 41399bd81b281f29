import ELFCore
import Foundation

/// What a snapshot of a live process cost it.
public struct SnapshotReport: Sendable {
    public let pid: Int32
    public let threads: Int
    /// From the first thread stopped to the last one resumed.
    public let stoppedSeconds: Double
    public let copiedBytes: UInt64
    public let unreadableBytes: UInt64

    /// One line for stderr.
    public var summary: String {
        var line = String(format: "stopped for %.3f s (%d thread%@, %.1f MB copied)", stoppedSeconds, threads,
                          threads == 1 ? "" : "s", Double(copiedBytes) / 1_000_000)
        if unreadableBytes > 0 { line += "; \(unreadableBytes) bytes could not be read and are zeros" }
        return line
    }
}

/// A core image of a running process, made the way the kernel would make it at this moment:
/// all threads stopped, registers, /proc/PID/smaps, auxv and the memory that
/// /proc/PID/coredump_filter selects copied, then the process resumed before anything is
/// analysed. The process is never left stopped: errors, Ctrl-C and heapscan's death all
/// resume it (see `StoppedProcess`, `InterruptGuard`).
public enum LiveProcess {
    /// How much is copied between checks for Ctrl-C.
    static let copyChunk = 64 << 20

    /// The image in an anonymous memory file (or an unlinked file in `spoolDirectory`).
    public static func snapshot(pid: Int32, spoolDirectory: String?) throws -> (MappedFile, SnapshotReport) {
        let spool = try SpoolFile(directory: spoolDirectory)
        let report = try capture(pid: pid, into: spool.descriptor)
        return (try MappedFile(descriptor: spool.take(), name: "pid \(pid)"), report)
    }

    /// The image written to `path` as a core file, through the same prefaulted mapping: the
    /// copy under stop lands in the page cache and the kernel writes it back afterwards.
    public static func snapshot(pid: Int32, to path: String) throws -> SnapshotReport {
        // 0600: a core holds whatever secrets the process held.
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard fd >= 0 else { throw CoreSourceError.errno("cannot create \(path)") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw CoreSourceError("\(path) is not a regular file")
        }
        return try capture(pid: pid, into: fd)
    }

    static var machine: UInt16 {
        #if arch(x86_64)
        return 62
        #elseif arch(arm64)
        return 183
        #else
        return 0
        #endif
    }

    /// The size of `pr_reg` in NT_PRSTATUS.
    static var registerBytes: Int {
        #if arch(arm64)
        return 34 * 8
        #else
        return 27 * 8
        #endif
    }

    /// Makes the image in `descriptor`, an empty memory or spool file.
    static func capture(pid: Int32, into descriptor: Int32) throws -> SnapshotReport {
        guard pid > 0 else { throw CoreSourceError("not a process id") }
        let identity = try ProcessIdentity(pid: pid)
        let auxv = ProcFile.bytes("/proc/\(pid)/auxv")
        let filter = ProcFile.text("/proc/\(pid)/coredump_filter").flatMap(CoredumpFilter.init(text:)) ?? .kernelDefault
        let pageSize = UInt64(max(4096, sysconf(Int32(_SC_PAGESIZE))))
        let memory = ProcessMemory(pid: pid)

        // The size estimate, from the mappings while the process still runs; headroom for
        // what it maps or writes before it is stopped.
        let before = try layout(pid: pid, filter: filter, memory: memory, notesSize: 1 << 20, pageSize: pageSize).layout
        let estimate = before.totalSize + before.totalSize / 8 + (16 << 20)
        guard estimate <= UInt64(Int.max) else { throw CoreSourceError("the process's memory is too large to copy") }
        let image = try PrefaultedImage(descriptor: descriptor, capacity: estimate)

        // Deferred in reverse: the process is resumed before a recorded Ctrl-C takes effect.
        let interrupts = InterruptGuard()
        defer { interrupts.restore() }
        let stopped = try StoppedProcess(pid: pid)
        defer { stopped.detach() }

        var notes = ProcessNotes()
        let (layout, mappings) = try layout(pid: pid, filter: filter, memory: memory, notesSize: nil, pageSize: pageSize) { mappings in
            for (index, thread) in stopped.threads.enumerated() {
                var registers = try stopped.registers(of: thread.tid)
                registers = Array(registers.prefix(registerBytes)) + [UInt8](repeating: 0, count: max(0, registerBytes - registers.count))
                notes.add(type: ProcessNotes.prstatus, descriptor: ProcessNotes.prstatus(
                    tid: thread.tid, identity: identity, signal: thread.pendingSignal, registers: registers))
                if index == 0 {
                    notes.add(type: ProcessNotes.prpsinfo, descriptor: ProcessNotes.prpsinfo(pid: pid, identity: identity))
                    if let auxv { notes.add(type: ProcessNotes.auxv, descriptor: auxv) }
                    notes.add(type: ProcessNotes.file, descriptor: ProcessNotes.fileMappings(mappings, pageSize: pageSize))
                }
            }
            return notes.bytes.count
        }
        try image.ensure(layout.totalSize)
        guard let base = image.base else { throw CoreSourceError("the core image is not mapped") }
        let headers = layout.headers(machine: machine, pageSize: pageSize)
        headers.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        notes.bytes.withUnsafeBytes { (base + Int(layout.notesOffset)).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }

        var copied: UInt64 = 0
        for load in layout.loads where load.fileSize > 0 {
            var done: UInt64 = 0
            while done < load.fileSize {
                if let signal = interrupts.interruption {
                    throw CoreSourceError("interrupted by signal \(signal); the process was resumed")
                }
                let count = Int(min(UInt64(copyChunk), load.fileSize - done))
                memory.copy(from: load.mapping.start + done, count: count, into: base + Int(load.fileOffset + done))
                done += UInt64(count)
            }
            copied += load.fileSize
        }
        let stoppedSeconds = stopped.detach()
        try image.finish(size: layout.totalSize)
        return SnapshotReport(pid: pid, threads: stopped.threads.count, stoppedSeconds: stoppedSeconds,
                              copiedBytes: copied, unreadableBytes: memory.unreadableBytes)
    }

    /// The mappings of `pid` now and the image layout they give. The notes' size is
    /// `notesSize`, or what `makeNotes` (given the mappings) returns.
    private static func layout(pid: Int32, filter: CoredumpFilter, memory: ProcessMemory, notesSize: Int?, pageSize: UInt64,
                               makeNotes: ([ProcessMapping]) throws -> Int = { _ in 0 })
        throws -> (layout: CoreImageLayout, mappings: [ProcessMapping]) {
        guard let smaps = ProcFile.text("/proc/\(pid)/smaps") else {
            let code = errno
            // Reading smaps needs the same permission as ptrace: say so the same way.
            if code == EACCES || code == EPERM { throw StoppedProcess.seizeError(pid: pid, code: EPERM) }
            throw CoreSourceError("cannot read /proc/\(pid)/smaps: \(SystemError.text(code))")
        }
        let mappings = ProcessMapping.parseSmaps(smaps[...])
        let elfMagic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
        let extents = mappings.map { mapping in
            filter.extent(of: mapping) { memory.peek(mapping.start, count: 4) == elfMagic }
        }
        let size = try notesSize ?? makeNotes(mappings)
        return (try CoreImageLayout(mappings: mappings, extents: extents, notesSize: size, pageSize: pageSize), mappings)
    }
}
