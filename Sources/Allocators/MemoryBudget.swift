import ELFCore
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
        guard let available = SystemMemory.availableBytes() else { return false }
        // The process needs room beside these structures (lookup, the core's own pages).
        guard overflow || UInt64(needed) > available / 4 * 3 else { return false }
        if !announced.exchange(true, ordering: .relaxed) {
            let line = "heapscan: the allocation table and mark state (\(needed >> 20) MiB) do not fit in available memory "
                + "(\(available >> 20) MiB); they are kept in an unlinked file in \(SystemMemory.temporaryDirectory)\n"
            fputs(line, stderr)
        }
        return true
    }
}
