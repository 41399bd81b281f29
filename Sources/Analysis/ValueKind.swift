import ELFCore
import ScanKernels

/// Whether a word could be an identifying value (a magic), rather than data that repeats for
/// other reasons: zero, small integers, pointers into mapped memory, text (the rules `words`
/// classifies by), and the shapes realistic heaps repeat without meaning anything: the upper half
/// of an old pointer beside a small field, two small integers side by side, a short C string, a
/// half of a double.
public struct ValueKind {
    /// Upper 32 bits of every mapped address, as sorted disjoint ranges: a word carrying one in
    /// its upper half is a pointer's leftover, whatever its lower half holds. Ranges, not a set of
    /// prefixes: a damaged segment can span billions of them.
    private let pointerPrefixes: [Range<UInt64>]
    private let memory: AddressSpace

    init(memory: AddressSpace) {
        self.memory = memory
        pointerPrefixes = AddressRanges.merged(memory.segments.compactMap { segment in
            segment.end > segment.start ? (segment.start >> 32)..<((segment.end - 1) >> 32 + 1) : nil
        })
    }

    private func isPointerPrefix(_ prefix: UInt64) -> Bool {
        pointerPrefixes.index(containing: prefix, start: \.lowerBound, end: \.upperBound) != nil
    }

    /// `enclosing` is the aligned 8-byte word holding a 4-byte `value`.
    func isMagicCandidate(_ value: UInt64, width: Int, enclosing: UInt64? = nil) -> Bool {
        guard value != 0, !WordClassifier.isSmall(value, width: width), !WordClassifier.isText(value, width: width),
              !Self.isShortText(value, width: width) else { return false }
        if width == 8 {
            guard memory.segment(containing: value) == nil, !isPointerPrefix(value >> 32),
                  !Self.isPairOfSmallIntegers(value), !Self.isSmallShorts(value), !Self.isPlausibleDouble(value)
            else { return false }
            return true
        }
        if Self.isPairOfSmallShorts(value) { return false }
        if let enclosing, Self.isPlausibleDouble(enclosing) { return false }
        return true
    }

    /// Two or more printable characters and then only NULs: a short C string ("443").
    public static func isShortText(_ value: UInt64, width: Int) -> Bool {
        (WordClassifier.printablePrefix(value, width: width) ?? 0) >= 2
    }

    /// Two 32-bit fields each below 2^16: counters, ids, flags side by side.
    public static func isPairOfSmallIntegers(_ value: UInt64) -> Bool {
        value >> 32 < 1 << 16 && value & 0xffff_ffff < 1 << 16
    }

    /// Two 16-bit fields each below 2^8.
    public static func isPairOfSmallShorts(_ value: UInt64) -> Bool {
        value >> 16 < 1 << 8 && value & 0xffff < 1 << 8
    }

    /// Four 16-bit fields each below 2^8 (a packed record of small fields).
    public static func isSmallShorts(_ value: UInt64) -> Bool {
        value & 0xff00_ff00_ff00_ff00 == 0
    }

    /// A double between about 1e-19 and 1e19 in magnitude, as prices, scores and ratios are.
    public static func isPlausibleDouble(_ value: UInt64) -> Bool {
        let exponent = (value >> 52) & 0x7ff
        return exponent >= 0x3c0 && exponent <= 0x440
    }
}
