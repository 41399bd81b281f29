/// Finds byte strings at every byte offset (what gdb's `find` does). Each needle is reduced to
/// two of its bytes, the rarest-looking ones; the hot loop compares 64 positions at a time
/// against both, ORs the masks of all needles over a 256-byte block and tests them once. A block
/// with a candidate is re-read on the cold path, which compares whole needles.
struct ByteFindKernel {
    struct Probe {
        let bytes: [UInt8]
        let firstOffset: Int
        let secondOffset: Int
        let id: Int
    }

    let probes: [Probe]
    let maxLength: Int

    init(needles: [(bytes: [UInt8], id: Int)]) {
        probes = needles.map { needle in
            let (first, second) = Self.anchors(needle.bytes)
            return Probe(bytes: needle.bytes, firstOffset: first, secondOffset: second, id: needle.id)
        }
        maxLength = needles.map(\.bytes.count).max() ?? 1
    }

    /// Heap memory is mostly zeros and small integers: bytes 0x00 and 0xff, then ASCII, make poor
    /// filters. Picks the two best-scoring positions (far apart on ties).
    static func anchors(_ bytes: [UInt8]) -> (Int, Int) {
        func score(_ byte: UInt8) -> Int {
            switch byte {
            case 0: return 0
            case 0xff: return 1
            case 1...0x1f: return 2
            case 0x20...0x7e: return 3
            default: return 4
            }
        }
        guard bytes.count > 1 else { return (0, 0) }
        var best = (0, bytes.count - 1)
        var bestScore = -1
        for i in 0..<bytes.count {
            for j in (i + 1)..<bytes.count {
                var total = score(bytes[i]) * 2 + score(bytes[j]) * 2
                if bytes[i] != bytes[j] { total += 1 }
                if total > bestScore || (total == bestScore && j - i > best.1 - best.0) {
                    best = (i, j)
                    bestScore = total
                }
            }
            if bytes.count > 64 && i >= 64 { break }
        }
        return best
    }

    /// Reports matches that start at offsets below `startLimit` and end within `available` bytes.
    func scan(_ start: UnsafeRawPointer, available: Int, startLimit: Int, address: UInt64, into sink: inout HitSink) {
        let positions = min(startLimit, available)
        guard positions > 0 else { return }
        let farthestAnchor = probes.map(\.secondOffset).max() ?? 0
        // Blocks whose every load stays inside `available`.
        let hotPositions = max(0, min(positions, available - farthestAnchor))
        let blockEnd = hotPositions - hotPositions % 256
        let splats = probes.map { (SIMD64<UInt8>(repeating: $0.bytes[$0.firstOffset]),
                                   SIMD64<UInt8>(repeating: $0.bytes[$0.secondOffset]),
                                   $0.firstOffset, $0.secondOffset) }
        splats.withUnsafeBufferPointer { filters in
            var offset = 0
            while true {
                offset += filters.count == 1 ? Self.hotLoopOne(start + offset, blockEnd - offset, filters[0])
                                             : Self.hotLoop(start + offset, blockEnd - offset, filters)
                guard offset < blockEnd else { break }
                checkBlock(start, at: offset, available: available, address, &sink)
                offset += 256
            }
        }
        check(start, from: blockEnd, to: positions, available: available, address, &sink)
    }

    @inline(__always)
    private static func hotLoopOne(_ start: UnsafeRawPointer, _ end: Int,
                                   _ filter: (SIMD64<UInt8>, SIMD64<UInt8>, Int, Int)) -> Int {
        let (first, second, firstOffset, secondOffset) = filter
        var offset = 0
        while offset < end {
            if candidates(start + offset + firstOffset, start + offset + secondOffset, first, second) { return offset }
            offset += 256
        }
        return end
    }

    /// Whether any of 256 positions has `first` at `p` and `second` at `q` (same distance apart).
    @inline(__always)
    private static func candidates(_ p: UnsafeRawPointer, _ q: UnsafeRawPointer,
                                   _ first: SIMD64<UInt8>, _ second: SIMD64<UInt8>) -> Bool {
        anyLane(candidateMask(p, q, first, second)
            .| candidateMask(p + 64, q + 64, first, second)
            .| candidateMask(p + 128, q + 128, first, second)
            .| candidateMask(p + 192, q + 192, first, second))
    }

    @inline(__always)
    private static func candidateMask(_ p: UnsafeRawPointer, _ q: UnsafeRawPointer,
                                      _ first: SIMD64<UInt8>, _ second: SIMD64<UInt8>) -> SIMDMask<SIMD64<Int8>> {
        (p.loadUnaligned(as: SIMD64<UInt8>.self) .== first) .& (q.loadUnaligned(as: SIMD64<UInt8>.self) .== second)
    }

    /// Bit i set when position i of the 64 at `p` has both anchor bytes of the probe.
    @inline(__always)
    private static func candidateBits(_ start: UnsafeRawPointer, _ offset: Int, _ probe: Probe) -> UInt64 {
        let words = maskWords(candidateMask(start + offset + probe.firstOffset, start + offset + probe.secondOffset,
                                            SIMD64(repeating: probe.bytes[probe.firstOffset]),
                                            SIMD64(repeating: probe.bytes[probe.secondOffset])))
        var bits: UInt64 = 0
        for lane in 0..<8 {
            // Byte k of the lane is 0xff or 0: keep bit k of byte k, then sum the bytes into the top one.
            bits |= (((words[lane] & 0x8040_2010_0804_0201) &* 0x0101_0101_0101_0101) >> 56) << UInt64(lane * 8)
        }
        return bits
    }

    @inline(__always)
    private static func hotLoop(_ start: UnsafeRawPointer, _ end: Int,
                                _ filters: UnsafeBufferPointer<(SIMD64<UInt8>, SIMD64<UInt8>, Int, Int)>) -> Int {
        var offset = 0
        while offset < end {
            var hit = false
            for (first, second, firstOffset, secondOffset) in filters {
                hit = hit || candidates(start + offset + firstOffset, start + offset + secondOffset, first, second)
            }
            if hit { return offset }
            offset += 256
        }
        return end
    }

    /// A 256-byte block the hot loop flagged: only positions with both anchor bytes are compared.
    @inline(never)
    private func checkBlock(_ start: UnsafeRawPointer, at block: Int, available: Int, _ address: UInt64,
                            _ sink: inout HitSink) {
        if probes.count == 1 {
            // One needle: positions come out in order and go straight to the sink.
            let probe = probes[0]
            forEachMatch(of: probe, start, block: block, available: available) {
                sink.record(address &+ UInt64($0), needle: probe.id)
            }
            return
        }
        var found: [(offset: Int, id: Int)] = []
        for probe in probes {
            forEachMatch(of: probe, start, block: block, available: available) { found.append(($0, probe.id)) }
        }
        found.sort { ($0.offset, $0.id) < ($1.offset, $1.id) }
        for hit in found { sink.record(address &+ UInt64(hit.offset), needle: hit.id) }
    }

    @inline(__always)
    private func forEachMatch(of probe: Probe, _ start: UnsafeRawPointer, block: Int, available: Int,
                              _ body: (Int) -> Void) {
        for part in stride(from: block, to: block + 256, by: 64) {
            var bits = Self.candidateBits(start, part, probe)
            while bits != 0 {
                let offset = part + bits.trailingZeroBitCount
                bits &= bits - 1
                if offset + probe.bytes.count <= available, Self.matches(start + offset, probe.bytes) { body(offset) }
            }
        }
    }

    @inline(never)
    private func check(_ start: UnsafeRawPointer, from: Int, to: Int, available: Int, _ address: UInt64,
                       _ sink: inout HitSink) {
        for offset in from..<to {
            for probe in probes where offset + probe.bytes.count <= available {
                guard start.load(fromByteOffset: offset + probe.firstOffset, as: UInt8.self) == probe.bytes[probe.firstOffset],
                      start.load(fromByteOffset: offset + probe.secondOffset, as: UInt8.self) == probe.bytes[probe.secondOffset]
                else { continue }
                if Self.matches(start + offset, probe.bytes) {
                    sink.record(address &+ UInt64(offset), needle: probe.id)
                }
            }
        }
    }

    static func matches(_ start: UnsafeRawPointer, _ bytes: [UInt8]) -> Bool {
        for (index, byte) in bytes.enumerated() where start.load(fromByteOffset: index, as: UInt8.self) != byte {
            return false
        }
        return true
    }
}
