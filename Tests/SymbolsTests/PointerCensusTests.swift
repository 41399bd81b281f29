import ScanKernels
import Testing

/// The census kernel against a plain dictionary count of the same words.
struct PointerCensusTests {
    /// Deterministic pseudo-random words (SplitMix64).
    struct Words {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Module-like ranges in two far-apart areas (a PIE and libraries), with gaps between libraries.
    static let ranges: [(start: UInt64, end: UInt64)] = [
        (0x5555_5555_8000, 0x5555_5556_0000),
        (0x7f00_0010_0000, 0x7f00_0014_0000), (0x7f00_0020_0000, 0x7f00_0020_3000),
        (0x7f00_0040_0000, 0x7f00_0041_0000), (0x7fff_f7fc_0000, 0x7fff_f7fc_2000),
    ]

    /// A heap-like buffer: small integers, pointers near module ranges (in, just outside, in
    /// gaps), random words; some values repeat like vptrs do.
    static func buffer(words count: Int, seed: UInt64) -> [UInt64] {
        var random = Words(state: seed)
        let vptrs = (0..<20).map { index -> UInt64 in
            let range = ranges[index % ranges.count]
            return range.start + (random.next() % (range.end - range.start)) & ~7
        }
        return (0..<count).map { _ in
            let pick = random.next()
            switch pick % 8 {
            case 0, 1: return vptrs[Int(pick >> 8) % vptrs.count]
            case 2: return pick % 4096
            case 3:
                let range = ranges[Int(pick >> 8) % ranges.count]
                return (pick >> 16) % 2 == 0 ? range.end + (pick >> 20) % 64 : range.start &- 8
            case 4: return 0x7f00_0030_0000 + (pick >> 8) % 0x1000_0000
            default: return random.next()
            }
        }
    }

    static func naiveCounts(_ words: ArraySlice<UInt64>, _ ranges: [(start: UInt64, end: UInt64)]) -> [UInt64: Int] {
        var counts: [UInt64: Int] = [:]
        for word in words where ranges.contains(where: { word >= $0.start && word < $0.end }) {
            counts[word, default: 0] += 1
        }
        return counts
    }

    func census(_ words: [UInt64], skipping: Int = 0, filter: AddressFilter) -> [UInt64: Int] {
        let census = PointerCensus(filter: filter)
        words.withUnsafeBytes { bytes in
            // Regions are scanned in pieces of odd sizes, as regions of a core would be.
            var offset = skipping * 8
            var piece = 1000
            while offset < bytes.count {
                let end = min(bytes.count, offset + piece)
                census.scan(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), at: 0x1000 + UInt64(offset))
                offset = end
                piece = piece * 3 + 8
            }
        }
        return Dictionary(uniqueKeysWithValues: census.counts.map { ($0.value, $0.count) })
    }

    @Test(arguments: [1, 2, 3])
    func countsEqualADictionaryCount(seed: UInt64) {
        let words = Self.buffer(words: 50_000 + Int(seed) * 7, seed: seed)
        let filter = AddressFilter(ranges: Self.ranges)
        #expect(filter.clusters.count == AddressFilter.maxClusters)
        let expected = Self.naiveCounts(words[...], Self.ranges)
        #expect(expected.count >= 15)
        #expect(census(words, filter: filter) == expected)
    }

    @Test func exactWithoutAPageBitmap() {
        let words = Self.buffer(words: 20_000, seed: 9)
        let filter = AddressFilter(ranges: Self.ranges, maxBitmapBytes: 0)
        #expect(census(words, filter: filter) == Self.naiveCounts(words[...], Self.ranges))
    }

    @Test func rangesNotOnPageBoundariesStayExact() {
        let ranges: [(start: UInt64, end: UInt64)] = [(0x5555_0000_0108, 0x5555_0000_0110), (0x7f00_0000_0ff8, 0x7f00_0000_1008)]
        let words: [UInt64] = [0x5555_0000_0100, 0x5555_0000_0108, 0x5555_0000_0110, 0x7f00_0000_0ff0,
                               0x7f00_0000_0ff8, 0x7f00_0000_1000, 0x7f00_0000_1008] + Array(repeating: 1, count: 40)
        #expect(census(words, filter: AddressFilter(ranges: ranges)) == [0x5555_0000_0108: 1, 0x7f00_0000_0ff8: 1, 0x7f00_0000_1000: 1])
    }

    @Test func onlyAlignedWordsCount() {
        // Memory starting 4 bytes past an aligned address: the first aligned word is at byte 4.
        var bytes = [UInt8](repeating: 0, count: 4 + 8 * 40)
        let value: UInt64 = 0x5555_5555_9000
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(4..<12, with: $0) }
        // The same value at an unaligned address (0x1014) is not a word of the process.
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(16..<24, with: $0) }
        let census = PointerCensus(filter: AddressFilter(ranges: Self.ranges))
        bytes.withUnsafeBytes { census.scan($0, at: 0x1004) }
        #expect(census.counts.map(\.value) == [value])
        #expect(census.counts.first?.count == 1)
    }

    @Test func clustersSplitAtTheWidestGaps() {
        // The widest gap always splits; the next one only when wider than 1 GiB.
        let near = AddressFilter(ranges: [(0x1000, 0x2000), (0x3000, 0x4000), (0x100_0000, 0x100_1000), (0x5000_0000, 0x5000_1000)])
        #expect(near.clusters.map(\.start) == [0x1000, 0x5000_0000])
        #expect(near.clusters.map(\.span) == [0x100_0000, 0x1000])
        let far = AddressFilter(ranges: [(0x1000, 0x2000), (0x3000, 0x4000), (0x80_0000_0000, 0x80_0000_1000), (0x5000_0000, 0x5000_1000)])
        #expect(far.clusters.map(\.start) == [0x1000, 0x5000_0000, 0x80_0000_0000])
        #expect(far.clusters.map(\.span) == [0x3000, 0x1000, 0x1000])
        #expect(near.contains(0x1fff) && !near.contains(0x2000) && near.contains(0x3000))
        #expect(AddressFilter.empty.clusters.isEmpty && !AddressFilter.empty.contains(0x1000))
    }

    @Test(arguments: [1, 2, 3])
    func everyClusterCountCountsExactly(clusters: Int) {
        let ranges = Array(Self.ranges.prefix(clusters == 1 ? 1 : clusters == 2 ? 4 : 5))
        let filter = AddressFilter(ranges: ranges)
        #expect(filter.clusters.count == clusters)
        let words = Self.buffer(words: 30_000, seed: UInt64(10 + clusters))
        #expect(census(words, filter: filter) == Self.naiveCounts(words[...], ranges))
    }

    @Test func occurrencesAreTheAddressesOfEqualWords() {
        let words = Self.buffer(words: 30_000, seed: 4)
        let values = Set(words.prefix(64).filter { word in Self.ranges.contains { word >= $0.start && word < $0.end } })
        #expect(!values.isEmpty)
        var occurrences = PointerOccurrences(values: values, limit: 1000)
        words.withUnsafeBytes { occurrences.scan($0, at: 0x10_0000) }
        for value in values {
            let expected = words.indices.filter { words[$0] == value }.prefix(1000).map { 0x10_0000 + UInt64($0) * 8 }
            #expect(occurrences.addresses[value] ?? [] == Array(expected))
        }
    }
}
