import TestFixtures
import Testing
@testable import ScanKernels

/// The find kernels against a naive search, on random buffers with needles planted at every
/// alignment, at the very start and end, and inside the tail that the 256-byte blocks leave over.
@Suite struct FindKernelTests {
    func kernelHits(_ pattern: FindPattern, _ bytes: [UInt8], address: UInt64, startLimit: Int? = nil) -> [NaiveReference.Hit] {
        var sink = HitSink(needleCount: pattern.needles.count)
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            pattern.scan(base, available: bytes.count, startLimit: startLimit ?? bytes.count, address: address, into: &sink)
        }
        let hits = zip(sink.addresses, sink.needles).map { NaiveReference.Hit(address: $0, needle: Int($1)) }
        #expect(sink.counts.reduce(0, +) == UInt64(hits.count))
        return hits.sorted()
    }

    /// Background bytes like a heap: mostly zeros and small values, so filters see near-misses.
    func heapLikeBytes(_ count: Int, _ random: inout SplitMix) -> [UInt8] {
        (0..<count).map { _ in
            switch random.next() % 4 {
            case 0, 1: return 0
            case 2: return UInt8(random.next() % 4)
            default: return UInt8(truncatingIfNeeded: random.next())
            }
        }
    }

    func plant(_ needle: [UInt8], in bytes: inout [UInt8], at offset: Int) {
        guard offset >= 0, offset + needle.count <= bytes.count else { return }
        bytes.replaceSubrange(offset..<(offset + needle.count), with: needle)
    }

    @Test(arguments: [1, 2, 4, 8], [false, true])
    func integerNeedlesMatchNaiveSearch(width: Int, unaligned: Bool) throws {
        var random = SplitMix(seed: UInt64(width * 10 + (unaligned ? 1 : 0)))
        for round in 0..<60 {
            let needleCount = [1, 2, 3, 16][round % 4]
            let mask: UInt64 = width == 8 ? .max : (1 << UInt64(width * 8)) - 1
            var needles: [Needle] = []
            for _ in 0..<needleCount {
                // Some needles share bytes with the background (0x01, 0x0100) to stress the filters.
                let value = round % 5 == 0 ? (random.next() % 3) << UInt64((width - 1) * 8) | 1 : random.next() & mask
                let needle = try Needle.value(value, width: width)
                needles.append(unaligned ? needle.unaligned : needle)
            }
            let pattern = try FindPattern(needles)
            let size = Int(random.next() % 2100)
            var bytes = heapLikeBytes(size, &random)
            let address = 0x5555_0000_1000 + random.next() % 16
            for needle in needles {
                for offset in [0, 1, 3, 4, 7, 8, size - width, size - width - 1, size - 255, size - 256, size / 2 + 3] {
                    plant(needle.bytes, in: &bytes, at: offset)
                }
                for _ in 0..<6 { plant(needle.bytes, in: &bytes, at: Int(random.next() % UInt64(max(1, size)))) }
            }
            let expected = NaiveReference.find(needles, in: bytes, address: address)
            #expect(kernelHits(pattern, bytes, address: address) == expected, "round \(round) size \(size)")
        }
    }

    @Test func byteStringsMatchNaiveSearch() throws {
        var random = SplitMix(seed: 99)
        for round in 0..<80 {
            let needles = try (0..<(1 + round % 4)).map { _ in
                let length = 1 + Int(random.next() % 40)
                let text = String((0..<length).map { _ in Character(Unicode.Scalar(UInt8(97 + random.next() % 3))) })
                return try Needle.string(text)
            }
            let pattern = try FindPattern(needles)
            let size = Int(random.next() % 3000)
            // Letters from the same small alphabet, so partial matches are everywhere.
            var bytes = (0..<size).map { _ in UInt8(97 + random.next() % 3) }
            for needle in needles {
                for offset in [0, size - needle.bytes.count, size - 256 - 1, Int(random.next() % UInt64(max(1, size)))] {
                    plant(needle.bytes, in: &bytes, at: offset)
                }
            }
            let address = UInt64(0x1000 + random.next() % 8)
            #expect(kernelHits(pattern, bytes, address: address) == NaiveReference.find(needles, in: bytes, address: address))
            // A start limit keeps matches that run past it (the bytes after it are there to read).
            let limit = Int(random.next() % UInt64(size + 1))
            #expect(kernelHits(pattern, bytes, address: address, startLimit: limit)
                    == NaiveReference.find(needles, in: bytes, address: address, startLimit: limit))
        }
    }

    @Test func mixedWidthsInOnePattern() throws {
        var random = SplitMix(seed: 7)
        let needles = [try Needle.value(0xa11c_0de5, width: 4), try Needle.value(0x5eed_0f1e_a4ed_0001, width: 8),
                       try Needle.value(0xbeef, width: 2), try Needle.string("leak"), try Needle.value(0x7f, width: 1)]
        let pattern = try FindPattern(needles)
        var bytes = heapLikeBytes(5000, &random)
        for (index, needle) in needles.enumerated() {
            for step in 0..<40 { plant(needle.bytes, in: &bytes, at: index * 7 + step * 113) }
        }
        #expect(kernelHits(pattern, bytes, address: 0x2000) == NaiveReference.find(needles, in: bytes, address: 0x2000))
    }

    @Test func parsesValuesLikeGdb() throws {
        #expect(try Needle.parse("0xa11c0de5", width: nil).bytes == [0xe5, 0x0d, 0x1c, 0xa1])
        #expect(try Needle.parse("5", width: nil).width == 4)
        #expect(try Needle.parse("4294967296", width: nil).width == 8)
        #expect(try Needle.parse("-1", width: nil).bytes == [0xff, 0xff, 0xff, 0xff])
        #expect(try Needle.parse("-1", width: 2).bytes == [0xff, 0xff])
        #expect(try Needle.parse("0x5eed0f1ea4ed0001", width: nil).width == 8)
        #expect(throws: Needle.ParseError.tooWide("0x1ff", width: 1)) { try Needle.parse("0x1ff", width: 1) }
        #expect(throws: Needle.ParseError.notANumber("12z")) { try Needle.parse("12z", width: nil) }
        #expect(throws: Needle.ParseError.badWidth(3)) { try Needle.parse("1", width: 3) }
        #expect(try Needle.string("ab\\0\\x41").bytes == [0x61, 0x62, 0, 0x41])
        #expect(throws: Needle.ParseError.emptyString) { try Needle.string("") }
        #expect(throws: FindPattern.PatternError.tooMany(17)) {
            try FindPattern((0..<17).map { try Needle.value(UInt64($0), width: 4) })
        }
    }
}
