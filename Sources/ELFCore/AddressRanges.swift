/// Address ranges as sets: the one way ranges from several sources (allocator state, typed
/// module data) are joined before they are cut out of something else.
public enum AddressRanges {
    /// Sorted, with overlapping and touching ranges joined and empty ones dropped.
    public static func merged(_ ranges: [Range<UInt64>]) -> [Range<UInt64>] {
        var merged: [Range<UInt64>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !range.isEmpty {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
