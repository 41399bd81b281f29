import Foundation

/// /proc/PID/coredump_filter: which kinds of mapping a core of the process holds. heapscan
/// applies the kernel's rules (fs/coredump.c, `vma_dump_size`) to the mappings it reads, so a
/// snapshot holds what a kernel core of the same moment would.
struct CoredumpFilter {
    let bits: UInt64

    /// The kernel's default, for when the file cannot be read.
    static let kernelDefault = CoredumpFilter(bits: 0x33)

    static let anonymousPrivate: UInt64 = 1 << 0
    static let anonymousShared: UInt64 = 1 << 1
    static let filePrivate: UInt64 = 1 << 2
    static let fileShared: UInt64 = 1 << 3
    static let elfHeaders: UInt64 = 1 << 4
    static let hugetlbPrivate: UInt64 = 1 << 5
    static let hugetlbShared: UInt64 = 1 << 6

    init(bits: UInt64) {
        self.bits = bits
    }

    init?(text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bits = UInt64(trimmed, radix: 16) else { return nil }
        self.bits = bits
    }

    private func has(_ bit: UInt64) -> Bool { bits & bit != 0 }

    /// How much of a mapping goes into the core from its start: all of it, its first page
    /// (the ELF header of a mapped executable or library), or nothing.
    enum Extent: Equatable {
        case whole
        case firstPage
        case none
    }

    /// `startsWithELF`: asked only for a file mapping at offset 0 whose first page could be
    /// an ELF header.
    func extent(of mapping: ProcessMapping, startsWithELF: () -> Bool) -> Extent {
        // The vDSO is always dumped: nothing on disk holds it.
        if mapping.name == "[vdso]" { return mapping.readable ? .whole : .none }
        if mapping.flags.contains("dd") || mapping.flags.contains("io") { return .none }
        // Unreadable memory (PROT_NONE reservations, guard pages) has nothing to copy.
        guard mapping.readable else { return .none }
        if mapping.flags.contains("ht") {
            return has(mapping.shared ? Self.hugetlbShared : Self.hugetlbPrivate) ? .whole : .none
        }
        if mapping.shared {
            // An unlinked file (shmem, memfd, /dev/zero) counts as anonymous shared memory.
            let unlinked = !mapping.isFile || mapping.name.hasSuffix(" (deleted)") || mapping.name.hasPrefix("/memfd:")
                || mapping.name.hasPrefix("/SYSV")
            return has(unlinked ? Self.anonymousShared : Self.fileShared) ? .whole : .none
        }
        // The kernel asks whether the mapping has an anon_vma (was ever written); resident or
        // swapped anonymous pages are the nearest thing /proc shows.
        if mapping.hasAnonymousPages && has(Self.anonymousPrivate) { return .whole }
        guard mapping.isFile else { return .none }
        if has(Self.filePrivate) { return .whole }
        if has(Self.elfHeaders) && mapping.fileOffset == 0 && startsWithELF() { return .firstPage }
        return .none
    }
}
