import Dispatch
import Regions
import Synchronization

/// Exact top-N most frequent aligned words with bounded memory.
///
/// Pass 1 counts values below 65536 in a direct array and feeds the rest (those not skipped)
/// to a per-thread heavy-hitter summary (every sixteenth value once it has seen a million and
/// had to drop counts). When no summary dropped any, its counts are exact and there is one
/// pass. Otherwise pass 2 counts the summary's candidates exactly and every other value into
/// hashed buckets; with D the largest bucket (or, without sampling, the summaries' summed
/// decrement if smaller), a value that is not a candidate occurs at most D times, so the top N
/// is proven exact when the N-th count exceeds D. When it does not and `exact` is asked for,
/// every value is counted exactly, hash-partitioned into as many passes as the per-thread
/// table bound needs.
public enum WordHistogram {
    public enum CensusError: Error, CustomStringConvertible, Equatable {
        case badWidth(Int)
        case badTop(Int)

        public var description: String {
            switch self {
            case .badWidth(let width): return "word width \(width) is not 4 or 8"
            case .badTop(let top): return "--top \(top) must be at least 1"
            }
        }
    }

    static let directSize = Int(WordClassifier.smallLimit)

    public static func census(of regions: [Region], classifier: WordClassifier,
                              options: WordCensusOptions) throws -> WordCensus {
        try census(plan: ScanPlan(regions: regions, threads: options.threads),
                   pointerRanges: classifier.pointerRanges, options: options)
    }

    public static func census(plan: ScanPlan, pointerRanges: [(start: UInt64, end: UInt64)],
                              options: WordCensusOptions) throws -> WordCensus {
        guard options.width == 4 || options.width == 8 else { throw CensusError.badWidth(options.width) }
        guard options.top >= 1 else { throw CensusError.badTop(options.top) }
        let rangeStorage = UnsafeMutableBufferPointer<(start: UInt64, end: UInt64)>.allocate(capacity: pointerRanges.count)
        _ = rangeStorage.initialize(from: pointerRanges)
        defer { rangeStorage.deallocate() }
        let filter = WordFilter(skip: options.skip, width: options.width, pointerRanges: UnsafeBufferPointer(rangeStorage))
        let first = ParallelScan.forEachChunk(
            of: plan, threads: options.threads, progress: options.progress, label: "counting words",
            makeState: { _ in CandidatePass(width: options.width, filter: filter, capacity: options.heavyHitterCapacity,
                                         countsSmall: !options.skip.isSuperset(of: [.zero, .small])) }
        ) { worker, chunk in
            worker.count(chunk)
        }

        var direct = [UInt64](repeating: 0, count: directSize)
        var scanned: UInt64 = 0
        var skipped: UInt64 = 0
        var bigConsidered: UInt64 = 0
        var decrement: UInt64 = 0
        for worker in first {
            // With zero and small both skipped the direct array stays empty; they are the rest.
            if !worker.countsSmall { skipped &+= worker.words &- worker.skipped &- worker.considered }
            if let counts = worker.direct {
                for value in 0..<directSize { direct[value] &+= counts[value] }
            }
            scanned &+= worker.words
            skipped &+= worker.skipped
            bigConsidered &+= worker.considered
            decrement &+= worker.heavy.decrement
        }
        var ranked: [WordCount] = []
        for value in 0..<directSize where direct[value] > 0 {
            let skippedClass = value == 0 ? options.skip.contains(.zero) : options.skip.contains(.small)
            if skippedClass { skipped &+= direct[value] } else { ranked.append(WordCount(value: UInt64(value), count: direct[value])) }
        }

        var passes = 1
        let candidates: [WordCount]
        var bound = decrement
        if decrement == 0 {
            // Nothing was ever dropped: the summaries hold exact counts already.
            candidates = mergedEstimates(first.map(\.heavy))
        } else {
            // Only the candidates with the highest estimates are counted exactly, few enough for
            // the lookup table to stay in L1; any other value occurs at most `bound` times.
            let estimates = mergedEstimates(first.map(\.heavy)).sorted(by: WordCount.ranked)
            let limit = candidateLimit(top: options.top)
            if estimates.count > limit { bound += estimates[limit].count }
            let counted = countCandidates(estimates.prefix(limit).map(\.value), plan: plan, filter: filter, options: options)
            candidates = counted.counts
            // Without sampling, both the summaries' bound and pass 2's hold; with it, only pass 2's.
            bound = first.contains(where: \.sampled) ? counted.bound : min(bound, counted.bound)
            passes += 1
        }
        var result = ranked + candidates
        result.sort(by: WordCount.ranked)
        let top = Array(result.prefix(options.top))
        let proven = bound == 0 || (top.count == options.top && top[options.top - 1].count > bound)
        var census = WordCensus(width: options.width, top: top, scannedWords: scanned, skippedWords: skipped,
                                provenExact: proven, errorBound: bound, method: .heavyHitters, passes: passes,
                                scannedBytes: plan.totalBytes)
        if !proven && options.exact {
            let (full, fullPasses) = fullCount(plan: plan, filter: filter, options: options, occurrences: bigConsidered)
            var all = ranked + full
            all.sort(by: WordCount.ranked)
            census.top = Array(all.prefix(options.top))
            census.provenExact = true
            census.method = .fullCount
            census.passes += fullPasses
        }
        return census
    }

    /// How many heavy-hitter candidates pass 2 counts exactly.
    static func candidateLimit(top: Int) -> Int { max(512, 8 * top) }

    /// Each kept value with the sum of its per-thread estimates (a lower bound of its count;
    /// the count itself when no summary ever purged).
    static func mergedEstimates(_ summaries: [HeavyHitters]) -> [WordCount] {
        var merged: [UInt64: UInt64] = [:]
        for summary in summaries {
            for (value, count) in summary.entries() { merged[value, default: 0] &+= count }
        }
        return merged.map { WordCount(value: $0.key, count: $0.value) }
    }

    /// Pass 2: exact counts of the given values, and the most any other value not skipped
    /// occurs (the largest bucket of `ExactPass`'s sketch).
    static func countCandidates(_ values: [UInt64], plan: ScanPlan, filter: WordFilter,
                                options: WordCensusOptions) -> (counts: [WordCount], bound: UInt64) {
        let table = CountTable(capacity: max(1, values.count))
        for value in values { _ = table.increment(value) }
        let slots = table.slotCount
        let workers = ParallelScan.forEachChunk(
            of: plan, threads: options.threads, progress: options.progress, label: "counting candidates",
            makeState: { _ in ExactPass(width: options.width, filter: filter, table: table) }
        ) { worker, chunk in
            worker.count(chunk)
        }
        var result: [WordCount] = []
        for slot in 0..<slots where table.keys[slot] != 0 {
            let count = workers.reduce(UInt64(0)) { $0 &+ $1.counts[slot] }
            if count > 0 { result.append(WordCount(value: table.keys[slot], count: count)) }
        }
        var bound: UInt64 = 0
        for bucket in 0..<ExactPass.sketchSize {
            bound = max(bound, workers.reduce(UInt64(0)) { total, worker in
                // A saturated bucket bounds nothing: every value may be anywhere up to the words scanned.
                worker.sketch[bucket] == .max ? UInt64.max / 2 : total &+ UInt64(worker.sketch[bucket])
            })
        }
        return (result, bound)
    }

    /// Every non-skipped value of 65536 and above counted exactly, one hash partition per pass;
    /// a partition with more distinct values than a table holds is split in two and redone.
    static func fullCount(plan: ScanPlan, filter: WordFilter, options: WordCensusOptions,
                          occurrences: UInt64) -> ([WordCount], Int) {
        let capacity = options.fullCountCapacity
        var bits = 0
        while bits < 32 && (occurrences >> UInt64(bits)) > UInt64(capacity) { bits += 1 }
        let partitions = 1 << bits
        let threads = max(1, min(options.threads, partitions))
        let queue = PartitionQueue()
        let reporter = options.progress
            ? ProgressLine(total: plan.totalBytes &* UInt64(partitions), label: "counting all values") : nil
        let results = UnsafeMutablePointer<([WordCount], Int)>.allocate(capacity: threads)
        results.initialize(repeating: ([], 0), count: threads)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let table = CountTable(capacity: capacity)
            var pending: [(bits: Int, index: UInt64)] = []
            var best: [WordCount] = []
            var passes = 0
            while true {
                let next: (bits: Int, index: UInt64)
                if let split = pending.popLast() {
                    next = split
                } else {
                    let index = queue.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < partitions else { break }
                    next = (bits, UInt64(index))
                }
                passes += 1
                table.reset()
                let pass = PartitionPass(width: options.width, filter: filter, table: table, bits: next.bits, index: next.index)
                var complete = true
                for chunk in plan.chunks {
                    guard pass.count(chunk) else { complete = false; break }
                    reporter?.advance(UInt64(chunk.bytes.count))
                }
                if complete {
                    best += table.entries()
                    best.sort(by: WordCount.ranked)
                    if best.count > options.top { best.removeLast(best.count - options.top) }
                } else {
                    pending.append((next.bits + 1, next.index << 1))
                    pending.append((next.bits + 1, next.index << 1 | 1))
                }
            }
            results[worker] = (best, passes)
        }
        reporter?.finish()
        var all: [WordCount] = []
        var passes = 0
        for worker in 0..<threads {
            all += results[worker].0
            passes += results[worker].1
        }
        return (all, passes)
    }
}

private final class PartitionQueue: Sendable {
    let next = Atomic<Int>(0)
}

/// The aligned words a chunk holds: those starting in its bytes and ending inside them.
@inline(__always)
func alignedWords(_ chunk: ScanPlan.Chunk, width: Int) -> (start: UnsafeRawPointer, count: Int) {
    let skip = Int((UInt64(width) &- chunk.address % UInt64(width)) % UInt64(width))
    guard chunk.bytes.count > skip else { return (chunk.bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, 0) }
    return (chunk.bytes.baseAddress! + skip, (chunk.bytes.count - skip) / width)
}
