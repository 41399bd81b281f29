import TestFixtures
import Regions
import Testing
@testable import ScanKernels

/// `Finder` over whole cores: chunking, threads, seams between adjacent segments, gaps, limits.
@Suite struct FinderTests {
    func randomSegments(seed: UInt64, sizes: [Int], gapAfter: Set<Int>) -> [(address: UInt64, bytes: [UInt8])] {
        var random = SplitMix(seed: seed)
        var address: UInt64 = 0x5555_0000_0000
        var segments: [(address: UInt64, bytes: [UInt8])] = []
        for (index, size) in sizes.enumerated() {
            let bytes = (0..<size).map { _ in random.next() % 3 == 0 ? UInt8(truncatingIfNeeded: random.next()) : 0 }
            segments.append((address, bytes))
            address += UInt64(size) + (gapAfter.contains(index) ? 0x1000 : 0)
        }
        return segments
    }

    func plant(_ needle: [UInt8], at address: UInt64, in segments: inout [(address: UInt64, bytes: [UInt8])]) {
        for (offset, byte) in needle.enumerated() {
            let target = address + UInt64(offset)
            if let index = segments.firstIndex(where: { target >= $0.address && target < $0.address + UInt64($0.bytes.count) }) {
                segments[index].bytes[Int(target - segments[index].address)] = byte
            }
        }
    }

    func expected(_ needles: [Needle], _ core: SyntheticScanCore, _ regions: [Region]) -> [NaiveReference.Hit] {
        core.contiguousRuns(regions).flatMap { NaiveReference.find(needles, in: $0.bytes, address: $0.address) }.sorted()
    }

    @Test(arguments: [64, 4096, 1 << 20], [1, 2, 3])
    func matchesNaiveSearchAcrossChunksAndSeams(chunkSize: Int, threads: Int) throws {
        var segments = randomSegments(seed: UInt64(chunkSize + threads), sizes: [0x3000, 0x2000, 0x5000, 0x1000], gapAfter: [1])
        let string = Array("straddles".utf8)
        let magic = try Needle.value(0xa11c_0de5, width: 4)
        // Across the seams of segments 0|1 and 2|3 (adjacent) and of 1|2 (a gap: no match there).
        plant(string, at: 0x5555_0000_3000 - 4, in: &segments)
        plant(string, at: 0x5555_0000_5000 - 4, in: &segments)
        plant(magic.bytes, at: 0x5555_0000_b000 - 2, in: &segments)
        for step in 0..<200 { plant(magic.bytes, at: 0x5555_0000_0000 + UInt64(step * 0x29), in: &segments) }
        let core = try SyntheticScanCore(segments)
        let regions = core.regions()
        let needles = [magic, magic.unaligned, try Needle.string("straddles"), try Needle.value(0xa11c_0de5_0000, width: 8)]
        let pattern = try FindPattern(needles)
        let plan = ScanPlan(regions: regions, chunkSize: chunkSize, threads: threads)
        let result = Finder.find(pattern, plan: plan, threads: threads)
        let hits = result.hits.map { NaiveReference.Hit(address: $0.address, needle: $0.needle) }
        #expect(hits == expected(needles, core, regions))
        #expect(hits.contains(NaiveReference.Hit(address: 0x5555_0000_3000 - 4, needle: 2)))
        #expect(hits.contains(NaiveReference.Hit(address: 0x5555_0000_b000 - 2, needle: 1)))
        #expect(!hits.contains(NaiveReference.Hit(address: 0x5555_0000_5000 - 4, needle: 2)))
        #expect(result.total == UInt64(hits.count))
        for hit in result.hits {
            #expect(regions[hit.regionIndex].contains(hit.address))
        }
    }

    @Test func limitKeepsTheFirstHitsAndExactCounts() throws {
        var segments = randomSegments(seed: 5, sizes: [0x4000, 0x4000], gapAfter: [])
        let needle = try Needle.value(0x1122_3344_5566_7788, width: 8)
        for step in 0..<300 { plant(needle.bytes, at: 0x5555_0000_0000 + UInt64(step * 64), in: &segments) }
        let core = try SyntheticScanCore(segments)
        let pattern = try FindPattern([needle])
        let all = Finder.find(pattern, in: core.regions(), threads: 2)
        let plan = ScanPlan(regions: core.regions(), chunkSize: 4096, threads: 2)
        let limited = Finder.find(pattern, plan: plan, limit: 10, threads: 2)
        #expect(all.total == 300)
        #expect(limited.total == 300)
        #expect(limited.hits == Array(all.hits.prefix(10)))
        #expect(limited.counts[0].reduce(0, +) == 300)
    }

    @Test func rangeClippedToOddAddressesKeepsWholeMatchesOnly() throws {
        var segments = randomSegments(seed: 11, sizes: [0x2000], gapAfter: [])
        let needle = try Needle.value(0xfeed_f00d, width: 4)
        for address: UInt64 in [0x5555_0000_0100, 0x5555_0000_0104, 0x5555_0000_0ffc, 0x5555_0000_1000] {
            plant(needle.bytes, at: address, in: &segments)
        }
        let core = try SyntheticScanCore(segments)
        let regions = core.regions(range: (0x5555_0000_0102, 0x5555_0000_0fff))
        let result = Finder.find(try FindPattern([needle, needle.unaligned]), in: regions)
        #expect(result.hits.map(\.address) == [0x5555_0000_0104, 0x5555_0000_0104])
    }
}
