import Dispatch
import Regions
import Synchronization

/// Exact top-N most frequent aligned words with bounded memory.
///
/// On a plan of up to `surveyAbove` bytes, pass 1 counts values below 65536 in a direct array
/// and feeds the rest (those not skipped) to a per-thread heavy-hitter summary (every sixteenth
/// value once it has seen a million and had to drop counts). When no summary dropped any, its
/// counts are exact and there is one pass. On a bigger plan, pass 1 summarises a sample of
/// 512-byte blocks (`WordSurvey`) instead, which finds the heavy values at a small part of the
/// cost. Either way pass 2 (`CountingPass`) counts the candidates exactly and, when that can
/// prove anything, every other value into hashed buckets; with D the largest bucket (or, without
/// sampling, the summaries' summed decrement if smaller; never more than the occurrences of
/// values that are no candidate), a value that is not a candidate occurs at most D times, so the
/// top N is proven exact when the N-th count exceeds D. When it does not and `exact` is asked
/// for, every value is counted exactly, hash-partitioned into as many passes as the per-thread
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
        var census = plan.totalBytes > options.surveyAbove
            ? surveyedCensus(plan: plan, filter: filter, options: options)
            : summarisedCensus(plan: plan, filter: filter, options: options)
        if !census.result.provenExact && options.exact {
            let (full, fullPasses) = fullCount(plan: plan, filter: filter, options: options, occurrences: census.considered)
            var all = census.small + full
            all.sort(by: WordCount.ranked)
            census.result.top = Array(all.prefix(options.top))
            census.result.provenExact = true
            census.result.method = .fullCount
            census.result.passes += fullPasses
        }
        return census.result
    }

    /// A census before `--exact`'s full count, with what that count needs.
    struct PartialCensus {
        var result: WordCensus
        /// The listed values below 65536 (exact from the direct arrays).
        var small: [WordCount]
        /// Occurrences of values of 65536 and above not skipped.
        var considered: UInt64
    }

    /// Pass 1 over every word, pass 2 only when a summary had to drop counts.
    static func summarisedCensus(plan: ScanPlan, filter: WordFilter, options: WordCensusOptions) -> PartialCensus {
        let countsSmall = !options.skip.isSuperset(of: [.zero, .small])
        let first = ParallelScan.forEachChunk(
            of: plan, threads: options.threads, progress: options.progress, label: "counting words",
            makeState: { _ in CandidatePass(width: options.width, filter: filter, capacity: options.heavyHitterCapacity,
                                         countsSmall: countsSmall) }
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
        let small = smallValues(direct, skip: options.skip)
        skipped &+= small.skipped

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
            let counted = countCandidates(estimates.prefix(limit).map(\.value), plan: plan, filter: filter,
                                          options: options, countsSmall: false, bounds: true)
            candidates = counted.counts
            let counting = min(counted.bound(considered: bigConsidered), counted.sketchBound ?? .max)
            // Without sampling, both the summaries' bound and pass 2's hold; with it, only pass 2's.
            bound = first.contains(where: \.sampled) ? counting : min(bound, counting)
            passes += 1
        }
        return finished(small: small.counts, candidates: candidates, bound: bound, scanned: scanned, skipped: skipped,
                        considered: bigConsidered, passes: passes, plan: plan, options: options)
    }

    /// Pass 1 over a sample, pass 2 over every word.
    static func surveyedCensus(plan: ScanPlan, filter: WordFilter, options: WordCensusOptions) -> PartialCensus {
        let countsSmall = !options.skip.isSuperset(of: [.zero, .small])
        let shift = WordSurvey.strideShift(total: plan.totalBytes, budget: max(1, options.surveyBytes))
        let surveys = ParallelScan.forEachChunk(
            of: plan, threads: options.threads, progress: options.progress, label: "sampling words",
            makeState: { _ in WordSurvey(width: options.width, filter: filter, capacity: options.heavyHitterCapacity,
                                         strideShift: shift) }
        ) { worker, chunk in
            worker.survey(chunk)
        }
        let estimates = mergedEstimates(surveys.map(\.heavy)).sorted(by: WordCount.ranked)
        let chosen = estimates.prefix(sampledCandidateLimit(top: options.top))
        let counted = countCandidates(chosen.map(\.value), plan: plan, filter: filter, options: options,
                                      countsSmall: countsSmall,
                                      bounds: bucketsCanProve(chosen, surveys: surveys, shift: shift, top: options.top))
        let considered = counted.large &- counted.rejected
        var skipped = counted.rejected
        var small: [WordCount] = []
        if let direct = counted.direct {
            let values = smallValues(direct, skip: options.skip)
            small = values.counts
            skipped &+= values.skipped
        } else {
            skipped &+= counted.words &- counted.large
        }
        let bound = min(counted.bound(considered: considered), counted.sketchBound ?? .max)
        return finished(small: small, candidates: counted.counts, bound: bound, scanned: counted.words, skipped: skipped,
                        considered: considered, passes: 2, plan: plan, options: options)
    }

    /// Whether pass 2's buckets can prove the top N: the largest of `CountingPass.sketchSize`
    /// buckets holds at least their average, the occurrences of all values that are no
    /// candidate over the bucket count, so when the survey's N-th estimate is well below that
    /// average the buckets would cost a random increment per word and prove nothing. On a heap
    /// of many distinct values (hashes, random keys) that is most of the census's time.
    static func bucketsCanProve(_ chosen: ArraySlice<WordCount>, surveys: [WordSurvey], shift: Int, top: Int) -> Bool {
        guard chosen.count >= top else { return true }
        let sampled = surveys.reduce(UInt64(0)) { $0 &+ $1.considered }
        let chosenTotal = chosen.reduce(UInt64(0)) { $0 &+ $1.count }
        let others = (sampled &- min(sampled, chosenTotal)) << UInt64(shift)
        let nth = chosen[chosen.startIndex + top - 1].count << UInt64(shift)
        return nth.multipliedFullWidth(by: 2 * UInt64(CountingPass.sketchSize)) >= (0, others)
    }

    /// The direct array's values that are not skipped, and the occurrences of those that are.
    static func smallValues(_ direct: [UInt64], skip: WordSkip) -> (counts: [WordCount], skipped: UInt64) {
        var counts: [WordCount] = []
        var skipped: UInt64 = 0
        for value in 0..<directSize where direct[value] > 0 {
            let skippedClass = value == 0 ? skip.contains(.zero) : skip.contains(.small)
            if skippedClass { skipped &+= direct[value] } else { counts.append(WordCount(value: UInt64(value), count: direct[value])) }
        }
        return (counts, skipped)
    }

    static func finished(small: [WordCount], candidates: [WordCount], bound: UInt64, scanned: UInt64, skipped: UInt64,
                         considered: UInt64, passes: Int, plan: ScanPlan, options: WordCensusOptions) -> PartialCensus {
        var result = small + candidates
        result.sort(by: WordCount.ranked)
        let top = Array(result.prefix(options.top))
        let proven = bound == 0 || (top.count == options.top && top[options.top - 1].count > bound)
        let census = WordCensus(width: options.width, top: top, scannedWords: scanned, skippedWords: skipped,
                                provenExact: proven, errorBound: bound, method: .heavyHitters, passes: passes,
                                scannedBytes: plan.totalBytes)
        return PartialCensus(result: census, small: small, considered: considered)
    }

    /// How many heavy-hitter candidates pass 2 counts exactly.
    static func candidateLimit(top: Int) -> Int { max(512, 8 * top) }

    /// The same after a survey: fewer, so that fewer words of a heap of hashes collide with a
    /// candidate in the bitmap (each such collision sends eight words down the slow path).
    static func sampledCandidateLimit(top: Int) -> Int { max(256, 5 * top) }

    /// Each kept value with the sum of its per-thread estimates (a lower bound of its count;
    /// the count itself when no summary ever purged).
    static func mergedEstimates(_ summaries: [HeavyHitters]) -> [WordCount] {
        var merged: [UInt64: UInt64] = [:]
        for summary in summaries {
            for (value, count) in summary.entries() { merged[value, default: 0] &+= count }
        }
        return merged.map { WordCount(value: $0.key, count: $0.value) }
    }

    /// What pass 2 counted, summed over its threads.
    struct CandidateCounts {
        var counts: [WordCount] = []
        /// The largest bucket, when pass 2 kept buckets.
        var sketchBound: UInt64?
        /// The direct array, when pass 2 counted small values.
        var direct: [UInt64]?
        var words: UInt64 = 0
        var large: UInt64 = 0
        var rejected: UInt64 = 0

        /// The occurrences of values that are no candidate (of `considered`, those not skipped):
        /// no such value can occur more often.
        func bound(considered: UInt64) -> UInt64 {
            considered &- min(considered, counts.reduce(UInt64(0)) { $0 &+ $1.count })
        }
    }

    /// Pass 2: exact counts of the given values, with the counts `CountingPass` keeps besides.
    static func countCandidates(_ values: [UInt64], plan: ScanPlan, filter: WordFilter, options: WordCensusOptions,
                                countsSmall: Bool, bounds: Bool) -> CandidateCounts {
        let table = CountTable(capacity: max(1, values.count))
        for value in values { _ = table.increment(value) }
        let bits = CountingPass.candidateBits(of: table)
        defer { bits.deallocate() }
        let workers = ParallelScan.forEachChunk(
            of: plan, threads: options.threads, progress: options.progress, label: "counting candidates",
            makeState: { _ in CountingPass(width: options.width, filter: filter, table: table, candidateBits: bits,
                                           countsSmall: countsSmall, bounds: bounds) }
        ) { worker, chunk in
            worker.count(chunk)
        }
        var result = CandidateCounts()
        for slot in 0..<table.slotCount where table.keys[slot] != 0 {
            let count = workers.reduce(UInt64(0)) { $0 &+ $1.counts[slot] }
            if count > 0 { result.counts.append(WordCount(value: table.keys[slot], count: count)) }
        }
        if bounds {
            var bound: UInt64 = 0
            for bucket in 0..<CountingPass.sketchSize {
                bound = max(bound, workers.reduce(UInt64(0)) { total, worker in
                    // A saturated bucket bounds nothing: every value may be anywhere up to the words scanned.
                    guard let sketch = worker.sketch else { return total }
                    return sketch[bucket] == .max ? UInt64.max / 2 : total &+ UInt64(sketch[bucket])
                })
            }
            result.sketchBound = bound
        }
        if countsSmall {
            var direct = [UInt64](repeating: 0, count: directSize)
            for worker in workers {
                guard let counts = worker.direct else { continue }
                for value in 0..<directSize { direct[value] &+= counts[value] }
            }
            result.direct = direct
        }
        for worker in workers {
            result.words &+= worker.words
            result.large &+= worker.large
            result.rejected &+= worker.rejected
        }
        return result
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
