import Analysis
import ELFCore
import Regions

/// Everything the report page shows, gathered from one analysed core (and, with a baseline,
/// the growth since an earlier one). The page renders this and computes nothing of its own.
public struct ReportContent {
    /// One mapped range of the address space, as the address map draws it.
    public struct RegionRow: Sendable, Equatable {
        public var start: UInt64
        public var end: UInt64
        public var label: String
        public var name: String
    }

    public var corePath: String
    public var process: CoreSummary.Process
    public var threadCount: Int
    /// The suspects as `leaks` ranks them with the same options.
    public var leaks: Classifier.Report
    /// Every group however small, for the treemap: one large buffer is a tile of its own.
    public var groups: Classifier.Report
    /// How many suspects the table lists; the treemap shows them all.
    public var tableRows: Int
    /// Suspects past this rank get no examples, so `--top 0` on a heap of thousands of groups
    /// keeps the page small.
    public static let maximumExampleSuspects = 20

    /// Per listed suspect, in rank order up to `maximumExampleSuspects`: its example
    /// allocations as `show` sees them.
    public var examples: [[AllocationView]]
    public var sizes: SizeHistogram
    public var regions: [RegionRow]
    /// Growth since the baseline core, as `diff` computes it.
    public var growth: GrowthDiff?

    /// - Parameters:
    ///   - leaks: the classification `leaks` would print for this core.
    ///   - tableRows: suspects listed in the table (0: all).
    ///   - examplesPerSuspect: example objects shown for each listed suspect.
    ///   - exampleBytes: bytes of each example shown word by word.
    ///   - groups: the classification with every group, as `diff` makes it.
    public init(analysis: LeakAnalysis, leaks: Classifier.Report, groups: Classifier.Report, tableRows: Int, examplesPerSuspect: Int = 2,
                exampleBytes: Int = 64, growth: GrowthDiff? = nil) {
        corePath = analysis.core.path
        let summary = CoreSummary(core: analysis.core, regions: analysis.regions)
        process = summary.process
        threadCount = summary.threads.count
        self.leaks = leaks
        self.groups = groups
        self.tableRows = tableRows > 0 ? min(tableRows, leaks.suspects.count) : leaks.suspects.count
        examples = leaks.suspects.prefix(min(self.tableRows, Self.maximumExampleSuspects)).map { suspect in
            suspect.examples.prefix(examplesPerSuspect).compactMap { example in
                guard example.hasPrefix("0x"), let address = UInt64(example.dropFirst(2), radix: 16) else { return nil }
                return analysis.view(of: address, maxBytes: exampleBytes)
            }
        }
        sizes = analysis.table.map { SizeHistogram(table: $0, reachability: analysis.reachability) }
            ?? SizeHistogram(buckets: [])
        regions = analysis.regions.regions.map {
            RegionRow(start: $0.start, end: $0.end, label: $0.label.rawValue, name: $0.displayName)
        }
        self.growth = growth
    }
}

extension SizeHistogram {
    init(buckets: [Bucket]) { self.buckets = buckets }
}
