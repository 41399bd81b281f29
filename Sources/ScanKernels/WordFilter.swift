/// The `--skip` classes as a test on one word, applied while counting (before a value can take a
/// heavy-hitter counter). Values below 65536 never reach it: they are counted in a direct array
/// and zero/small are dropped at ranking time. Only plain values and a borrowed pointer: every
/// thread uses it in its inner loop, and a reference-counted field would make the threads fight
/// over one counter's cache line.
struct WordFilter: @unchecked Sendable {
    let width: Int
    let skipsSmall: Bool
    let skipsPointers: Bool
    let skipsText: Bool
    private let top: UInt64
    private let ranges: UnsafeBufferPointer<(start: UInt64, end: UInt64)>
    private let lowest: UInt64
    private let highest: UInt64

    /// `pointerRanges` must outlive the filter.
    init(skip: WordSkip, width: Int, pointerRanges: UnsafeBufferPointer<(start: UInt64, end: UInt64)>) {
        self.width = width
        skipsSmall = skip.contains(.small)
        skipsPointers = skip.contains(.pointers) && !pointerRanges.isEmpty
        skipsText = skip.contains(.text)
        top = width >= 8 ? .max : (1 << UInt64(width * 8)) - 1
        ranges = pointerRanges
        lowest = pointerRanges.first?.start ?? 0
        highest = pointerRanges.last?.end ?? 0
    }

    var isEmpty: Bool { !skipsSmall && !skipsPointers && !skipsText }

    /// When neither pointers nor text are skipped: `rejects(value)` is `value > rejectionLimit`.
    var rejectionLimit: UInt64? {
        guard !skipsPointers && !skipsText else { return nil }
        return skipsSmall ? top - WordClassifier.smallLimit : .max
    }

    /// True when `value` (≥ 65536) belongs to a skipped class.
    func rejects(_ value: UInt64) -> Bool {
        if skipsSmall && value > top - WordClassifier.smallLimit { return true }
        if skipsPointers && value >= lowest && value < highest
            && WordClassifier.contains(ranges, value) { return true }
        if skipsText && WordClassifier.isText(value, width: width) { return true }
        return false
    }
}
