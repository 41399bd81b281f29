import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether the per-allocation structures fit in memory: compared with the kernel's estimate of
/// what can be allocated without swapping (MemAvailable), or with HEAPSCAN_MEMORY_AVAILABLE
/// (bytes) when set, which is how tests take the file path without a core of tens of gigabytes.
public enum MemoryBudget {
    private static let announced = Atomic<Bool>(false)

    /// Bytes the structures of one allocation need while a leak hunt runs: its table entry and
    /// a byte for its mark bits (two for the state, one referenced, two membership bits).
    public static let bytesPerAllocation = 17

    /// True when `allocations` allocations' structures should live in a file mapping; says so
    /// once on stderr the first time it is.
    public static func needsFile(allocations: Int) -> Bool {
        let (needed, overflow) = allocations.multipliedReportingOverflow(by: bytesPerAllocation)
        guard let available = availableBytes() else { return false }
        // The process needs room beside these structures (lookup, the core's own pages).
        guard overflow || UInt64(needed) > available / 4 * 3 else { return false }
        if !announced.exchange(true, ordering: .relaxed) {
            let line = "heapscan: the allocation table and mark state (\(needed >> 20) MiB) do not fit in available memory "
                + "(\(available >> 20) MiB); they are kept in an unlinked file in \(temporaryDirectory)\n"
            fputs(line, stderr)
        }
        return true
    }

    static var temporaryDirectory: String {
        guard let value = getenv("TMPDIR"), value.pointee != 0 else { return "/tmp" }
        return String(cString: value)
    }

    static func availableBytes() -> UInt64? {
        if let value = getenv("HEAPSCAN_MEMORY_AVAILABLE"), let bytes = UInt64(String(cString: value)) { return bytes }
        guard let file = fopen("/proc/meminfo", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            guard text.hasPrefix("MemAvailable:") else { continue }
            let kilobytes = text.dropFirst("MemAvailable:".count).split(separator: " ").first.flatMap { UInt64($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }
}
