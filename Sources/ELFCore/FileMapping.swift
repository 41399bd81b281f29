/// One file-backed range from NT_FILE: which file, and where in it the mapping starts.
public struct FileMapping: Sendable, Hashable {
    public let start: UInt64
    public let end: UInt64
    public let fileOffset: UInt64
    public let path: String

    public init(start: UInt64, end: UInt64, fileOffset: UInt64, path: String) {
        self.start = start
        self.end = end
        self.fileOffset = fileOffset
        self.path = path
    }

    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }

    /// Parses NT_FILE: a count, the page size, count (start, end, page offset) triples, then
    /// count NUL-terminated paths. Entries whose numbers are inconsistent are dropped.
    static func parse(_ desc: ByteReader) -> (mappings: [FileMapping], problem: String?) {
        guard let count = desc.u64(0), let pageSize = desc.u64(8) else {
            return ([], "NT_FILE note is shorter than its header")
        }
        let (tableBytes, overflow) = count.multipliedReportingOverflow(by: 24)
        guard !overflow, desc.contains(offset: 16, length: tableBytes) else {
            return ([], "NT_FILE claims \(count) entries, more than its \(desc.count) bytes hold")
        }
        var mappings: [FileMapping] = []
        var stringOffset = 16 + tableBytes
        var dropped = 0
        for index in 0..<count {
            let entry = 16 + index * 24
            guard let start = desc.u64(entry), let end = desc.u64(entry + 8),
                  let page = desc.u64(entry + 16), let path = desc.cString(stringOffset) else {
                return (mappings, "NT_FILE entry \(index) is cut short")
            }
            stringOffset += UInt64(path.utf8.count) + 1
            let (offset, offsetOverflow) = page.multipliedReportingOverflow(by: pageSize)
            guard start < end, !offsetOverflow else { dropped += 1; continue }
            mappings.append(FileMapping(start: start, end: end, fileOffset: offset, path: path))
        }
        return (mappings, dropped > 0 ? "NT_FILE had \(dropped) inconsistent entries" : nil)
    }
}
