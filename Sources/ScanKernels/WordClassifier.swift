import Regions

/// Classifies word values against the regions of one core: zero, small integer, pointer into a
/// region, ASCII text, or none of those (a possible magic number, hash, or packed fields).
public struct WordClassifier: Sendable {
    public let map: RegionMap
    /// Sorted, disjoint, merged address ranges of all regions: what counts as a pointer.
    public let pointerRanges: [(start: UInt64, end: UInt64)]
    private let moduleBases: [String: UInt64]

    public static let smallLimit: UInt64 = 65536

    public init(map: RegionMap) {
        self.map = map
        var merged: [(start: UInt64, end: UInt64)] = []
        for region in map.regions {
            if let last = merged.last, last.end == region.start {
                merged[merged.count - 1].end = region.end
            } else {
                merged.append((region.start, region.end))
            }
        }
        pointerRanges = merged
        var bases: [String: UInt64] = [:]
        for region in map.regions where region.label == .file {
            if let path = region.path { bases[path] = min(bases[path] ?? .max, region.start) }
        }
        moduleBases = bases
    }

    public func classify(_ value: UInt64, width: Int) -> WordClass {
        if value == 0 { return .zero }
        if Self.isSmall(value, width: width) { return .small }
        if let target = pointerTarget(value) { return .pointer(target) }
        if let text = Self.asciiText(value, width: width) { return .text(text) }
        return .magic
    }

    public func pointerTarget(_ value: UInt64) -> PointerTarget? {
        guard let region = map.region(containing: value) else { return nil }
        let base = region.label == .file ? region.path.flatMap { moduleBases[$0] } ?? region.start : region.start
        return PointerTarget(label: region.label, name: region.displayName, path: region.path, offset: value - base)
    }

    public func isPointer(_ value: UInt64) -> Bool {
        Self.contains(pointerRanges, value)
    }

    static func contains<Ranges: RandomAccessCollection>(_ ranges: Ranges, _ value: UInt64) -> Bool
    where Ranges.Element == (start: UInt64, end: UInt64), Ranges.Index == Int {
        var low = ranges.startIndex
        var high = ranges.endIndex
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].end <= value { low = middle + 1 } else { high = middle }
        }
        return low < ranges.endIndex && value >= ranges[low].start
    }

    /// 1…65535, or -65536…-1 as a two's complement number of the word's width.
    public static func isSmall(_ value: UInt64, width: Int) -> Bool {
        if value != 0 && value < smallLimit { return true }
        let top: UInt64 = width >= 8 ? .max : (1 << UInt64(width * 8)) - 1
        return value <= top && value >= top - (smallLimit - 1)
    }

    /// The text when the word's bytes, in memory order, are printable ASCII followed only by NULs,
    /// with at least half the word printable (`"abcd"`, `"GET \0\0\0\0"`).
    public static func asciiText(_ value: UInt64, width: Int) -> String? {
        guard isText(value, width: width) else { return nil }
        let bytes = (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64($0 * 8)) }.filter { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `asciiText(value, width:) != nil`, without building the text (used inside scans).
    @inline(__always)
    public static func isText(_ value: UInt64, width: Int) -> Bool {
        guard let printable = printablePrefix(value, width: width) else { return false }
        return printable * 2 >= width
    }

    /// How many printable ASCII bytes the word starts with, in memory order, when only NULs
    /// follow them; nil when another byte does.
    @inline(__always)
    public static func printablePrefix(_ value: UInt64, width: Int) -> Int? {
        var printable = 0
        var rest = value
        for _ in 0..<width {
            let byte = rest & 0xff
            if byte == 0 { break }
            guard byte >= 0x20 && byte <= 0x7e else { return nil }
            printable += 1
            rest >>= 8
        }
        return rest == 0 ? printable : nil
    }
}
