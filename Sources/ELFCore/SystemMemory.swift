#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the machine offers for what heapscan cannot keep in memory: the memory the kernel says
/// can still be had, and unlinked files in a directory on disk. One place, so that the core's
/// spool and the allocation table decide and spill alike.
public enum SystemMemory {
    /// MemAvailable from /proc/meminfo (what can be allocated without swapping), or
    /// HEAPSCAN_MEMORY_AVAILABLE (bytes) when set: tests make memory short with it.
    public static func availableBytes() -> UInt64? {
        if let value = getenv("HEAPSCAN_MEMORY_AVAILABLE"), let bytes = UInt64(String(cString: value)) { return bytes }
        guard let file = fopen("/proc/meminfo", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            guard text.hasPrefix("MemAvailable:") else { continue }
            let kilobytes = text.dropFirst("MemAvailable:".count).split(separator: " ").first.flatMap { UInt64($0) }
            return kilobytes.map { $0 &* 1024 }
        }
        return nil
    }

    /// `$TMPDIR`, else /var/tmp: /tmp is often a tmpfs, which is memory again.
    public static var temporaryDirectory: String {
        guard let value = getenv("TMPDIR"), value.pointee != 0 else { return "/var/tmp" }
        return String(cString: value)
    }

    /// A new file in `directory`, unlinked at once so nothing is left behind whatever happens to
    /// the process; its descriptor (close-on-exec), or -1 with errno set.
    public static func unlinkedFile(in directory: String) -> Int32 {
        var template = Array((directory.hasSuffix("/") ? directory : directory + "/").utf8CString.dropLast())
            + Array("heapscan-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { return -1 }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return descriptor
    }
}
