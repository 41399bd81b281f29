import ELFCore

/// A fast "does this word point into one of these ranges" test for scan kernels: the ranges
/// merged into one to three clusters, which SIMD code tests with one subtract and one compare
/// each, plus a page bitmap per cluster for the exact answer on the rare words that land inside
/// a cluster. The widest gap is always a split (in a process it lies between a PIE and its
/// libraries, where the brk heap is); a second split is made only for a gap wider than
/// `secondSplitGap`, since every cluster costs the hot loop a compare per word.
public struct AddressFilter: Sendable {
    public struct Cluster: Sendable, Equatable {
        public let start: UInt64
        /// `end - start`: `word &- start < span` is the whole range test.
        public let span: UInt64
        /// Index of the cluster's first page bit in `pageBits`.
        let firstBit: Int
    }

    public static let maxClusters = 3
    public static let secondSplitGap: UInt64 = 1 << 30
    /// Pages of 4 KiB: ranges from NT_FILE and module headers are page aligned.
    public static let pageShift: UInt64 = 12

    /// Sorted, merged, half-open ranges.
    public let ranges: [(start: UInt64, end: UInt64)]
    public let clusters: [Cluster]
    /// One bit per page of each cluster: set when the page overlaps a range.
    let pageBits: [UInt64]

    /// A filter matching no word at all.
    public static let empty = AddressFilter(ranges: [])

    /// `ranges` need not be sorted or disjoint; empty ones are dropped. Clusters whose page
    /// bitmap would exceed `maxBitmapBytes` fall back to exact range search on hits.
    public init(ranges input: [(start: UInt64, end: UInt64)], maxBitmapBytes: Int = 4 << 20) {
        var merged: [(start: UInt64, end: UInt64)] = []
        for range in input.filter({ $0.start < $0.end }).sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, range.start <= last.end {
                merged[merged.count - 1].end = max(last.end, range.end)
            } else {
                merged.append(range)
            }
        }
        ranges = merged
        guard !merged.isEmpty else {
            clusters = []
            pageBits = []
            return
        }
        // Split at the widest gaps between consecutive ranges.
        let gaps = (1..<max(1, merged.count)).map { ($0, merged[$0].start - merged[$0 - 1].end) }
            .sorted { $0.1 > $1.1 }
        let splits = gaps.prefix(Self.maxClusters - 1).enumerated()
            .filter { $0.offset == 0 || $0.element.1 > Self.secondSplitGap }.map(\.element.0).sorted()
        var bounds: [(start: UInt64, end: UInt64)] = []
        var first = 0
        for split in splits + [merged.count] {
            bounds.append((merged[first].start, merged[split - 1].end))
            first = split
        }
        let pageSize = UInt64(1) << Self.pageShift
        var clusters: [Cluster] = []
        var bitCount = 0
        for bound in bounds {
            let pages = Int((bound.end - bound.start + pageSize - 1) >> Self.pageShift)
            clusters.append(Cluster(start: bound.start, span: bound.end - bound.start, firstBit: bitCount))
            bitCount += pages
        }
        if bitCount / 8 > maxBitmapBytes {
            self.clusters = clusters.map { Cluster(start: $0.start, span: $0.span, firstBit: -1) }
            pageBits = []
            return
        }
        var bits = [UInt64](repeating: 0, count: (bitCount + 63) / 64)
        for range in merged {
            guard let cluster = clusters.first(where: { range.start &- $0.start < $0.span }) else { continue }
            let firstPage = Int((range.start - cluster.start) >> Self.pageShift)
            let lastPage = Int((range.end - 1 - cluster.start) >> Self.pageShift)
            for page in firstPage...lastPage {
                let bit = cluster.firstBit + page
                bits[bit >> 6] |= 1 << UInt64(bit & 63)
            }
        }
        self.clusters = clusters
        pageBits = bits
    }

    /// The exact test, for cold paths and tests.
    public func contains(_ word: UInt64) -> Bool {
        ranges.index(containing: word, start: \.start, end: \.end) != nil
    }
}
