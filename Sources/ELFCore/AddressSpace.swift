/// The process's memory as the core holds it: segments sorted by address, non-overlapping.
/// Reads of memory the core did not keep return nil ("not in core"), never zeros.
public struct AddressSpace: @unchecked Sendable {
    public let segments: [Segment]
    /// Keeps the mapping alive for as long as any view of it is in use.
    private let owner: AnyObject?

    public init(segments: [Segment], owner: AnyObject?) {
        self.segments = segments
        self.owner = owner
    }

    /// Index of the segment whose address range contains `address` (present or not), O(log n).
    public func segmentIndex(containing address: UInt64) -> Int? {
        segments.index(containing: address, start: \.start, end: \.end)
    }

    public func segment(containing address: UInt64) -> Segment? {
        segmentIndex(containing: address).map { segments[$0] }
    }

    /// Present bytes `[address, address + count)` from one segment, or nil. `hint` remembers the
    /// segment of the previous call, so walking sorted addresses costs no search.
    public func view(at address: UInt64, count: Int, hint: inout Int) -> UnsafeRawBufferPointer? {
        if hint < 0 || hint >= segments.count || !segments[hint].contains(address) {
            guard let index = segmentIndex(containing: address) else { return nil }
            hint = index
        }
        return segments[hint].view(at: address, count: count)
    }

    /// As many present bytes as exist from `address`, up to `count`, from one segment.
    public func prefixView(at address: UInt64, upTo count: Int, hint: inout Int) -> UnsafeRawBufferPointer? {
        if hint < 0 || hint >= segments.count || !segments[hint].contains(address) {
            guard let index = segmentIndex(containing: address) else { return nil }
            hint = index
        }
        let segment = segments[hint]
        guard address < segment.presentEnd else { return nil }
        return segment.view(at: address, count: Int(min(UInt64(count), segment.presentEnd - address)))
    }

    /// True when the byte at `address` is in the core.
    public func isPresent(_ address: UInt64) -> Bool {
        guard let segment = segment(containing: address) else { return false }
        return address < segment.presentEnd
    }

    /// True when every byte of `[address, address + count)` is in the core, across directly
    /// adjacent segments: what `read` needs, checked without copying.
    public func isPresent(_ address: UInt64, count: Int) -> Bool {
        guard count > 0 else { return count == 0 }
        let (end, overflow) = address.addingReportingOverflow(UInt64(count))
        guard !overflow, var index = segmentIndex(containing: address) else { return false }
        while true {
            let segment = segments[index]
            if end <= segment.presentEnd { return true }
            index += 1
            guard segment.presentEnd == segment.end, index < segments.count,
                  segments[index].start == segment.end else { return false }
        }
    }

    /// Copies `count` bytes starting at `address`, crossing into directly adjacent segments.
    /// Checked before anything is reserved: counts can come from damaged files.
    public func read(_ address: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0 else { return nil }
        if count == 0 { return [] }
        guard isPresent(address, count: count), var index = segmentIndex(containing: address) else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(count)
        var cursor = address
        while result.count < count {
            let segment = segments[index]
            guard cursor >= segment.start, cursor < segment.presentEnd else { return nil }
            let available = Int(segment.presentEnd - cursor)
            let take = min(available, count - result.count)
            guard let view = segment.view(at: cursor, count: take) else { return nil }
            result.append(contentsOf: view)
            cursor += UInt64(take)
            if result.count < count {
                // Only a segment that starts exactly where this one ends continues the read.
                index += 1
                guard index < segments.count, segments[index].start == segment.end,
                      cursor == segment.end else { return nil }
            }
        }
        return result
    }

    public func readU8(_ address: UInt64) -> UInt8? { load(address, as: UInt8.self) }
    public func readU16(_ address: UInt64) -> UInt16? { load(address, as: UInt16.self) }
    public func readU32(_ address: UInt64) -> UInt32? { load(address, as: UInt32.self) }
    public func readU64(_ address: UInt64) -> UInt64? { load(address, as: UInt64.self) }

    /// A NUL-terminated string at `address`, at most `maxLength` bytes, all present.
    public func readCString(_ address: UInt64, maxLength: Int = 1024) -> String? {
        guard let segment = segment(containing: address), address < segment.presentEnd else { return nil }
        let available = Int(min(UInt64(maxLength), segment.presentEnd - address))
        guard let view = segment.view(at: address, count: available),
              let terminator = view.firstIndex(of: 0) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: view[0..<terminator]), as: UTF8.self)
    }

    private func load<T: FixedWidthInteger>(_ address: UInt64, as type: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        if let segment = segment(containing: address), let view = segment.view(at: address, count: size) {
            return T(littleEndian: view.loadUnaligned(as: T.self))
        }
        guard let bytes = read(address, count: size) else { return nil }
        return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
    }
}
