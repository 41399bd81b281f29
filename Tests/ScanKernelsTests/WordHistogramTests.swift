import TestFixtures
import Regions
import Testing
@testable import ScanKernels

/// The word census against a plain Dictionary count of the same bytes.
@Suite struct WordHistogramTests {
    /// Heap-like words: zeros, small integers, pointers into the segment, a few repeated
    /// "vtables", many distinct large values (which force the heavy-hitter summary to purge),
    /// negative small numbers and text.
    func heapWords(_ count: Int, base: UInt64, seed: UInt64) -> [UInt64] {
        var random = SplitMix(seed: seed)
        let vtables = (0..<20).map { 0x7f00_0000_1000 + UInt64($0) * 0x48 }
        // A long run of zeros first, as heaps have, so that whole blocks take the zero path.
        return (0..<count).map { index in
            if index < 3000 { return 0 }
            switch random.next() % 100 {
            case 0..<40: return 0
            case 40..<65: return random.next() % 300
            case 65..<75: return base + (random.next() % UInt64(count)) * 8
            case 75..<82: return vtables[Int(random.next() % UInt64(1 + index % 20))]
            case 82..<84: return 0xa11c_0de5
            case 84..<85: return UInt64.max - random.next() % 4
            case 85..<87: return 0x0000_6b61_656c_7361
            default: return random.next() | 0x1_0000
            }
        }
    }

    func census(_ core: SyntheticScanCore, width: Int, skip: WordSkip, exact: Bool = false,
                capacity: Int = 16384, threads: Int = 2, chunkSize: Int? = nil) throws -> WordCensus {
        let classifier = WordClassifier(map: core.map)
        let options = WordCensusOptions(width: width, top: 50, skip: skip, exact: exact, threads: threads,
                                        heavyHitterCapacity: capacity, fullCountCapacity: 4096)
        let plan = ScanPlan(regions: core.regions(), chunkSize: chunkSize, threads: threads)
        return try WordHistogram.census(plan: plan, pointerRanges: classifier.pointerRanges, options: options)
    }

    func reference(_ core: SyntheticScanCore, width: Int, skip: WordSkip) -> (top: [WordCount], total: UInt64) {
        let classifier = WordClassifier(map: core.map)
        var counts: [UInt64: UInt64] = [:]
        var total: UInt64 = 0
        for region in core.regions() {
            for (value, count) in NaiveReference.wordCounts(Array(region.bytes), address: region.start, width: width) {
                total += count
                let kind = classifier.classify(value, width: width)
                let skipped = (kind == .zero && skip.contains(.zero)) || (kind == .small && skip.contains(.small))
                    || (skip.contains(.pointers) && classifier.isPointer(value))
                    || (skip.contains(.text) && WordClassifier.isText(value, width: width))
                if !skipped { counts[value, default: 0] += count }
            }
        }
        return (NaiveReference.top(counts, 50), total)
    }

    static let skips: [WordSkip] = [[], .defaults, [.zero, .small, .pointers], [.zero, .small, .pointers, .text]]

    @Test(arguments: [4, 8], skips)
    func exactModeEqualsDictionaryCount(width: Int, skip: WordSkip) throws {
        let base: UInt64 = 0x5555_0000_0000
        let words = heapWords(60000, base: base, seed: UInt64(width))
        let core = try SyntheticScanCore([(base, words.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } })])
        let expected = reference(core, width: width, skip: skip)
        // A tiny summary purges constantly; the full count must still be exact.
        let result = try census(core, width: width, skip: skip, exact: true, capacity: 64, chunkSize: 4096)
        #expect(result.top == expected.top)
        #expect(result.provenExact)
        #expect(result.scannedWords == expected.total)
    }

    @Test(arguments: [4, 8], [64, 16384])
    func provenTopEqualsDictionaryCount(width: Int, capacity: Int) throws {
        let base: UInt64 = 0x5555_0000_0000
        let words = heapWords(80000, base: base, seed: 3 + UInt64(width))
        let core = try SyntheticScanCore([(base, words.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } })])
        let skip: WordSkip = [.zero, .small, .pointers]
        let expected = reference(core, width: width, skip: skip)
        let result = try census(core, width: width, skip: skip, capacity: capacity, threads: 3, chunkSize: 8192)
        // Whatever is listed carries its exact count.
        let all = Dictionary(uniqueKeysWithValues: NaiveReference.top(
            NaiveReference.wordCounts(Array(core.regions()[0].bytes), address: base, width: width), .max).map { ($0.value, $0.count) })
        for entry in result.top { #expect(all[entry.value] == entry.count) }
        if result.provenExact {
            #expect(result.top == expected.top)
        } else {
            #expect(result.errorBound >= result.top.last?.count ?? 0)
        }
    }

    /// A big plan's census: candidates from a sample of 512-byte blocks, every word counted in
    /// the second pass. Forced here on a small core (every plan is "big", the sample a few
    /// blocks) so that sampling misses values; whatever it lists must still be exact.
    @Test(arguments: [4, 8], skips)
    func surveyedCensusCountsExactly(width: Int, skip: WordSkip) throws {
        let base: UInt64 = 0x5555_0000_0000
        var words = heapWords(70000, base: base, seed: 11 + UInt64(width))
        // A value filling one 4 KiB run (a buffer of one fill pattern) and one in every 97th word.
        for index in 20000..<20512 { words[index] = 0x0bad_f111_0bad_f111 }
        for index in Swift.stride(from: 5, to: words.count, by: 97) { words[index] = 0x7e57_0000_1234_5678 }
        let core = try SyntheticScanCore([(base, words.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } })])
        let classifier = WordClassifier(map: core.map)
        let expected = reference(core, width: width, skip: skip)
        let all = Dictionary(uniqueKeysWithValues: NaiveReference.top(
            NaiveReference.wordCounts(Array(core.regions()[0].bytes), address: base, width: width), .max).map { ($0.value, $0.count) })
        let plan = ScanPlan(regions: core.regions(), chunkSize: 8192, threads: 2)
        for sample in [UInt64(1) << 12, 1 << 16, 1 << 30] {
            var options = WordCensusOptions(width: width, top: 50, skip: skip, threads: 2, fullCountCapacity: 4096,
                                            surveyAbove: 0, surveyBytes: sample)
            let surveyed = try WordHistogram.census(plan: plan, pointerRanges: classifier.pointerRanges, options: options)
            #expect(surveyed.scannedWords == expected.total)
            for entry in surveyed.top { #expect(all[entry.value] == entry.count) }
            if surveyed.provenExact {
                #expect(surveyed.top == expected.top)
            } else {
                #expect(surveyed.errorBound >= surveyed.top.last?.count ?? 0)
            }
            options.exact = true
            let exact = try WordHistogram.census(plan: plan, pointerRanges: classifier.pointerRanges, options: options)
            #expect(exact.top == expected.top)
            #expect(exact.provenExact)
            let summarised = try census(core, width: width, skip: skip, chunkSize: 8192)
            #expect(exact.skippedWords == summarised.skippedWords)
            #expect(surveyed.skippedWords == summarised.skippedWords)
        }
    }

    /// On a sample of the whole plan the survey is exact: the planted values are found and
    /// counted, and the buckets prove the top N.
    @Test func surveyedCensusProvesAFewHeavyValues() throws {
        var random = SplitMix(seed: 5)
        var words: [UInt64] = []
        for index in 0..<60000 {
            words.append(index % 3 == 0 ? 0x1_0000 + random.next() % 40 : random.next() % 1000)
        }
        let core = try SyntheticScanCore([(0x1000_0000, words.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } })])
        let classifier = WordClassifier(map: core.map)
        let options = WordCensusOptions(width: 8, top: 30, skip: .defaults, threads: 2, surveyAbove: 0, surveyBytes: 1 << 20)
        let result = try WordHistogram.census(of: core.regions(), classifier: classifier, options: options)
        let expected = reference(core, width: 8, skip: .defaults)
        #expect(result.provenExact)
        #expect(result.top == Array(expected.top.prefix(30)))
        #expect(result.passes == 2)
    }

    @Test func provenWhenTheTailIsAboveTheErrorBound() throws {
        // 30 values repeated often among 40000 distinct ones: a 1024-counter summary must purge,
        // yet the top 30 stay above its error bound (about distinct values / counters).
        var random = SplitMix(seed: 42)
        var words: [UInt64] = []
        for index in 0..<40000 {
            words.append(random.next() | 0x1_0000)
            if index % 10 == 0 { words.append(0xbeef_0000 + UInt64(index / 10 % 30)) }
        }
        let core = try SyntheticScanCore([(0x1000_0000, words.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } })])
        let classifier = WordClassifier(map: core.map)
        let options = WordCensusOptions(width: 8, top: 30, skip: .defaults, threads: 2, heavyHitterCapacity: 1024)
        let result = try WordHistogram.census(of: core.regions(), classifier: classifier, options: options)
        #expect(result.errorBound > 0)
        #expect(result.provenExact)
        #expect(result.top.count == 30)
        #expect(result.top.allSatisfy { $0.count == 134 || $0.count == 133 })
    }

    @Test func fullCountSplitsPartitionsThatOverflow() throws {
        let base: UInt64 = 0x5555_0000_0000
        let words = heapWords(30000, base: base, seed: 77)
        let core = try SyntheticScanCore([(base, words.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } })])
        let plan = ScanPlan(regions: core.regions(), chunkSize: 4096, threads: 2)
        let filter = WordFilter(skip: [], width: 8, pointerRanges: UnsafeBufferPointer(start: nil, count: 0))
        // One starting partition and a 64-value table: it must split again and again.
        var options = WordCensusOptions(width: 8, top: 50, skip: [], threads: 2)
        options.fullCountCapacity = 64
        let (counts, passes) = WordHistogram.fullCount(plan: plan, filter: filter, options: options, occurrences: 0)
        let large = NaiveReference.wordCounts(Array(core.regions()[0].bytes), address: base, width: 8).filter { $0.key >= 65536 }
        #expect(passes > 16)
        #expect(counts.sorted(by: WordCount.ranked).prefix(50).map { $0 } == NaiveReference.top(large, 50))
    }

    @Test func classifiesValues() throws {
        let core = try SyntheticScanCore([(0x5555_0000_0000, [UInt8](repeating: 0, count: 4096)),
                                          (0x40_0000, [UInt8](repeating: 0, count: 4096))],
                                         fileMappings: [(0x40_0000, 0x40_1000, 0, "/usr/bin/example")])
        let classifier = WordClassifier(map: core.map)
        #expect(classifier.classify(0, width: 8) == .zero)
        #expect(classifier.classify(42, width: 8) == .small)
        #expect(classifier.classify(UInt64.max, width: 8) == .small)
        #expect(classifier.classify(0xffff_fffe, width: 4) == .small)
        #expect(classifier.classify(0xffff_fffe, width: 8) == .magic)
        #expect(classifier.classify(0x5555_0000_0010, width: 8)
                == .pointer(PointerTarget(label: .heap, name: "heap", path: nil, offset: 0x10)))
        #expect(classifier.classify(0x40_0123, width: 8).description == "pointer to /usr/bin/example+0x123")
        #expect(classifier.classify(0x6b61_656c, width: 4) == .text("leak"))
        #expect(classifier.classify(0x0000_6b61_656c_7361, width: 8) == .text("asleak"))
        #expect(classifier.classify(0xa11c_0de5, width: 4) == .magic)
        #expect(try WordSkip.parse("zero,pointers") == [.zero, .pointers])
        #expect(try WordSkip.parse("none") == [])
        #expect(throws: WordSkip.ParseError.self) { try WordSkip.parse("floats") }
    }
}
