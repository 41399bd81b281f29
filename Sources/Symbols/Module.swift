/// One loaded ELF object of the process (executable, shared library, vDSO) as libdwfl found it
/// from the core, and what heapscan could find on disk for it.
public struct Module: Sendable {
    /// Position in `ModuleSet.modules` (sorted by address).
    public let index: Int
    /// The path recorded in the core (NT_FILE or the link map), or the soname (`linux-vdso.so.1`).
    public let name: String
    public let start: UInt64
    public let end: UInt64
    /// Difference between run-time addresses and the addresses in the file.
    public let loadBias: UInt64
    /// The program itself (its range holds AT_PHDR), not a library.
    public let isExecutable: Bool
    /// The build-id the process had in memory, when the core kept that note.
    public let coreBuildID: BuildID?
    /// The file found for the module (after `--exe`, `--sysroot`, build-id directories): the one
    /// used, or else the first found whose build-id differs.
    public let file: String?
    /// The build-id of `file`.
    public let fileBuildID: BuildID?
    /// True when `file` is the module's file: symbols, DWARF and read-only data come from it.
    public let fileUsed: Bool
    /// True when no file is used but the core holds the whole ELF image (the vDSO).
    public let imageInCore: Bool
    /// The separate debuginfo file, or `file` itself when it carries DWARF.
    public let debugInfo: String?
    public let symbolCount: Int

    public var fileFound: Bool { file != nil }
    /// Nil when either build-id is unknown.
    public var buildIDMatches: Bool? {
        guard let coreBuildID, let fileBuildID else { return nil }
        return coreBuildID == fileBuildID
    }
    public var hasDebugInfo: Bool { debugInfo != nil }
    /// The last path component: `libc.so.6`.
    public var shortName: String { name.split(separator: "/").last.map(String.init) ?? name }

    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }
}
