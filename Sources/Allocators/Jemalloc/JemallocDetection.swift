import ELFCore

/// Evidence that a process used jemalloc, and which version.
public struct JemallocDetection: Sendable, Equatable {
    /// e.g. "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"; nil when no version string was found.
    public let version: String?
    /// The shared library's path from NT_FILE, nil for a static build.
    public let libraryPath: String?
    /// Address ranges of the module holding jemalloc (library or executable), to search first.
    public let moduleRanges: [ClosedRange<UInt64>]

    public init(version: String?, libraryPath: String?, moduleRanges: [ClosedRange<UInt64>]) {
        self.version = version
        self.libraryPath = libraryPath
        self.moduleRanges = moduleRanges
    }

    /// "jemalloc 5.3.0" (major.minor.patch only), or "jemalloc (version unknown)".
    public var allocatorName: String {
        guard let version else { return "jemalloc (version unknown)" }
        return "jemalloc " + (version.split(separator: "-").first.map(String.init) ?? version)
    }

    /// Major and minor number, when the version is known.
    public var majorMinor: (Int, Int)? {
        guard let version else { return nil }
        let parts = version.split(separator: "-").first?.split(separator: ".") ?? []
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }

    /// Finds jemalloc in a core: a mapped `libjemalloc.so*`, or, for a static build, jemalloc's
    /// statistics banner in the read-only data of a mapped file. Nil for any other allocator.
    public static func detect(in core: CoreFile) -> JemallocDetection? {
        let memory = core.addressSpace
        let libraryMappings = core.fileMappings.filter { basename($0.path).hasPrefix("libjemalloc.so") }
        if let path = libraryMappings.first?.path {
            let mappings = libraryMappings.filter { $0.path == path }
            let ranges = moduleRanges(mappings)
            var version: String?
            for mapping in mappings where version == nil {
                version = searchVersion(memory: memory, start: mapping.start, end: mapping.end)
            }
            if version == nil, let file = try? MappedFile(path: path) {
                version = VersionString.find(in: file.bytes)
            }
            return JemallocDetection(version: version, libraryPath: path, moduleRanges: ranges)
        }
        // Static build: the banner malloc_stats_print writes is in jemalloc's read-only data.
        let banner = Array("___ Begin jemalloc statistics ___".utf8)
        var byPath: [String: [FileMapping]] = [:]
        for mapping in core.fileMappings { byPath[mapping.path, default: []].append(mapping) }
        for (_, mappings) in byPath.sorted(by: { $0.key < $1.key }) {
            for mapping in mappings {
                for segment in memory.segments where segment.start < mapping.end && segment.end > mapping.start
                    && !segment.permissions.contains(.write) && segment.presentSize > 0 {
                    guard ByteSearch.firstIndex(of: banner, in: segment.bytes) != nil else { continue }
                    let version = VersionString.find(in: segment.bytes)
                    return JemallocDetection(version: version, libraryPath: nil, moduleRanges: moduleRanges(mappings))
                }
            }
        }
        // No NT_FILE at all (gdb writes its notes last, so a core cut short loses them): the
        // banner in any read-only memory the core holds, library or executable.
        guard core.fileMappings.isEmpty else { return nil }
        for segment in memory.segments where !segment.permissions.contains(.write) && segment.presentSize > 0 {
            guard ByteSearch.firstIndex(of: banner, in: segment.bytes) != nil else { continue }
            return JemallocDetection(version: VersionString.find(in: segment.bytes), libraryPath: nil, moduleRanges: [])
        }
        return nil
    }

    private static func searchVersion(memory: AddressSpace, start: UInt64, end: UInt64) -> String? {
        for segment in memory.segments where segment.start < end && segment.end > start && segment.presentSize > 0 {
            if let version = VersionString.find(in: segment.bytes) { return version }
        }
        return nil
    }

    /// Each module range extended to the end of the anonymous mapping after its data (its .bss).
    private static func moduleRanges(_ mappings: [FileMapping]) -> [ClosedRange<UInt64>] {
        guard let low = mappings.map(\.start).min(), let high = mappings.map(\.end).max() else { return [] }
        // A module's .bss follows its last file mapping; jemalloc's holds the 2 MiB extent-map root.
        let (end, overflow) = high.addingReportingOverflow(8 << 20)
        return [low...(overflow ? UInt64.max : end)]
    }

    private static func basename(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}

/// jemalloc's version string, `MAJOR.MINOR.PATCH-N-g<40 hex digits>`, NUL-terminated.
enum VersionString {
    static func find(in bytes: UnsafeRawBufferPointer) -> String? {
        let marker = Array("-g".utf8)
        var from = 0
        while let hit = ByteSearch.firstIndex(of: marker, in: bytes, from: from) {
            from = hit + 1
            if let version = candidate(endingAt: hit, in: bytes) { return version }
        }
        return nil
    }

    /// Checks the text around a "-g" at `dash`: 40 hex digits and a NUL after it, and
    /// `digits.digits.digits-digits` before it, starting after a NUL.
    private static func candidate(endingAt dash: Int, in bytes: UnsafeRawBufferPointer) -> String? {
        let hexStart = dash + 2
        guard hexStart + 41 <= bytes.count, bytes[hexStart + 40] == 0 else { return nil }
        for index in hexStart..<(hexStart + 40) {
            let byte = bytes[index]
            guard (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) else { return nil }
        }
        var start = dash
        while start > 0, start > dash - 32 {
            let byte = bytes[start - 1]
            guard (byte >= 0x30 && byte <= 0x39) || byte == 0x2e || byte == 0x2d else { break }
            start -= 1
        }
        guard start < dash, start == 0 || bytes[start - 1] == 0 else { return nil }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(hexStart + 40)]), as: UTF8.self)
        let head = text.split(separator: "-", omittingEmptySubsequences: false)
        guard head.count == 3, head[0].split(separator: ".").count == 3,
              head[0].split(separator: ".").allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
              !head[1].isEmpty, head[1].allSatisfy(\.isNumber) else { return nil }
        return text
    }
}

/// Plain substring search over raw bytes (short needles, cold data).
enum ByteSearch {
    static func firstIndex(of needle: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int = 0) -> Int? {
        guard let first = needle.first, needle.count <= bytes.count, start >= 0 else { return nil }
        var index = start
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first {
                var matched = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}
