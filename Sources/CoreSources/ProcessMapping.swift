/// One mapping of a live process as /proc/PID/smaps describes it: the line /proc/PID/maps
/// has, plus what decides whether a core includes it (resident anonymous pages, VmFlags).
struct ProcessMapping: Equatable {
    var start: UInt64
    var end: UInt64
    var readable: Bool
    var writable: Bool
    var executable: Bool
    var shared: Bool
    var fileOffset: UInt64
    var inode: UInt64
    /// The path or pseudo-name (`[heap]`, `[vdso]`), empty for anonymous memory.
    var name: String
    /// Resident or swapped anonymous pages: the private copies a write made, which is what
    /// the kernel's "has an anon_vma" test asks for the core.
    var hasAnonymousPages = false
    /// Two-letter VmFlags: `dd` (MADV_DONTDUMP), `io`, `pf`, `ht` (hugetlb).
    var flags: Set<String> = []

    var size: UInt64 { end - start }
    var isFile: Bool { inode != 0 && name.hasPrefix("/") }

    /// Parses the text of /proc/PID/smaps; a line it does not understand is skipped, never
    /// trusted (the format gains fields over kernel versions).
    static func parseSmaps(_ text: Substring) -> [ProcessMapping] {
        var mappings: [ProcessMapping] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let mapping = parseHeader(line) {
                mappings.append(mapping)
                continue
            }
            guard !mappings.isEmpty else { continue }
            if line.hasPrefix("VmFlags:") {
                mappings[mappings.count - 1].flags = Set(line.dropFirst(8).split(separator: " ").map(String.init))
            } else if line.hasPrefix("Anonymous:") || line.hasPrefix("Swap:") {
                let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0
                if kilobytes > 0 { mappings[mappings.count - 1].hasAnonymousPages = true }
            }
        }
        return mappings
    }

    /// `start-end perms offset dev inode [name]`, or nil for a line of another kind.
    static func parseHeader(_ line: Substring) -> ProcessMapping? {
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count >= 5 else { return nil }
        let range = fields[0].split(separator: "-")
        guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16), start < end,
              fields[1].count == 4, let offset = UInt64(fields[2], radix: 16), fields[3].contains(":"),
              let inode = UInt64(fields[4]) else { return nil }
        let perms = Array(fields[1])
        let name = fields.count > 5 ? String(fields[5].drop { $0 == " " }) : ""
        return ProcessMapping(start: start, end: end, readable: perms[0] == "r", writable: perms[1] == "w",
                              executable: perms[2] == "x", shared: perms[3] == "s", fileOffset: offset,
                              inode: inode, name: name)
    }
}
