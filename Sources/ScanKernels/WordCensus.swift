/// A value and how many aligned words in the scanned memory hold it.
public struct WordCount: Sendable, Hashable {
    public let value: UInt64
    public let count: UInt64

    public init(value: UInt64, count: UInt64) {
        self.value = value
        self.count = count
    }

    /// Most frequent first; equal counts by value, so the order is stable.
    static func ranked(_ lhs: WordCount, _ rhs: WordCount) -> Bool {
        lhs.count != rhs.count ? lhs.count > rhs.count : lhs.value < rhs.value
    }
}

public struct WordCensusOptions: Sendable {
    public var width: Int
    public var top: Int
    public var skip: WordSkip
    /// Count every value exactly (several bounded passes) when the fast method cannot prove its
    /// top-N exact.
    public var exact: Bool
    public var threads: Int
    public var progress: Bool
    /// Counters per thread in the heavy-hitter pass.
    public var heavyHitterCapacity: Int
    /// Distinct values one thread may hold in a full exact count (bounds memory).
    public var fullCountCapacity: Int
    /// Plans larger than this many bytes find their candidates in a sample of the memory
    /// (`WordSurvey`) and count every word once; smaller ones are summarised whole, which on a
    /// heap of few distinct values is the whole census in one pass.
    public var surveyAbove: UInt64
    /// About how many bytes the sample reads.
    public var surveyBytes: UInt64

    public init(width: Int = 8, top: Int = 50, skip: WordSkip = .defaults, exact: Bool = false,
                threads: Int = ParallelScan.defaultThreadCount, progress: Bool = false,
                heavyHitterCapacity: Int = 16384, fullCountCapacity: Int = 1 << 20,
                surveyAbove: UInt64 = 64 << 20, surveyBytes: UInt64 = 4 << 20) {
        self.width = width
        self.top = top
        self.skip = skip
        self.exact = exact
        self.threads = threads
        self.progress = progress
        self.heavyHitterCapacity = heavyHitterCapacity
        self.fullCountCapacity = fullCountCapacity
        self.surveyAbove = surveyAbove
        self.surveyBytes = surveyBytes
    }
}

/// The most frequent word values of a scan. Every count is exact; `provenExact` says whether
/// the list is also exactly the top N (no unlisted value could belong in it).
public struct WordCensus: Sendable {
    public enum Method: String, Sendable {
        /// Heavy-hitter pass (over all words, or over a sample on a big plan), then an exact
        /// count of its candidates.
        case heavyHitters = "heavy-hitters"
        /// Every value counted, in as many passes as bounded memory needs.
        case fullCount = "full-count"
    }

    public var width: Int
    public var top: [WordCount]
    /// Aligned words read, skipped ones included.
    public var scannedWords: UInt64
    /// Words left out by the skip classes.
    public var skippedWords: UInt64
    public var provenExact: Bool
    /// No value left out of the exactly counted candidates occurs more often than this (the
    /// summaries' total decrement, plus the highest estimate of a candidate not counted).
    public var errorBound: UInt64
    public var method: Method
    public var passes: Int
    public var scannedBytes: UInt64
}
