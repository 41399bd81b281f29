/// Finds integer needles of one width at addresses aligned to that width. Memory is read as
/// 64-byte vectors, four per 256-byte block; the compare masks of all needles are OR-ed and tested
/// once per block, and only a block with a hit is read again, word by word, on the cold path.
struct AlignedFindKernel {
    let width: Int
    let values: [UInt64]
    /// Index of each value in the pattern's needle list.
    let ids: [Int]

    /// Scans the `wordCount` words that start at `start` (which holds address `address`, aligned).
    func scan(_ start: UnsafeRawPointer, wordCount: Int, address: UInt64, into sink: inout HitSink) {
        switch width {
        case 8: scanWords(start, wordCount, address, &sink, SIMD8<UInt64>.self)
        case 4: scanWords(start, wordCount, address, &sink, SIMD16<UInt32>.self)
        default: scanWords(start, wordCount, address, &sink, SIMD32<UInt16>.self)
        }
    }

    @inline(__always)
    private func scanWords<V: LaneCompare>(_ start: UnsafeRawPointer, _ wordCount: Int, _ address: UInt64,
                                    _ sink: inout HitSink, _: V.Type) where V: LaneCompare {
        let byteCount = wordCount * width
        let blockBytes = 4 * MemoryLayout<V>.stride
        let blockEnd = byteCount - byteCount % blockBytes
        let splats = values.map { V(repeating: V.Scalar(truncatingIfNeeded: $0)) }
        splats.withUnsafeBufferPointer { needles in
            var offset = 0
            while true {
                // The hot loops stop at the first block with a hit; it is resolved here, cold.
                let rest = start + offset
                offset += needles.count == 1 ? Self.hotLoopOne(rest, blockEnd - offset, needles[0])
                                             : Self.hotLoopMany(rest, blockEnd - offset, needles)
                guard offset < blockEnd else { break }
                checkWords(start, from: offset, to: offset + blockBytes, address, &sink, V.Scalar.self)
                offset += blockBytes
            }
        }
        checkWords(start, from: blockEnd, to: byteCount, address, &sink, V.Scalar.self)
    }

    /// Returns the offset of the first 256-byte block with a hit, or `end` when there is none.
    @inline(__always)
    private static func hotLoopOne<V: LaneCompare>(_ start: UnsafeRawPointer, _ end: Int, _ needle: V) -> Int
    where V: LaneCompare {
        var offset = 0
        while offset < end {
            let (a, b, c, d) = load4(start + offset, V.self)
            if V.anyEqual(a, b, c, d, needle) { return offset }
            offset += 4 * MemoryLayout<V>.stride
        }
        return end
    }

    @inline(__always)
    private static func hotLoopMany<V: LaneCompare>(_ start: UnsafeRawPointer, _ end: Int, _ needles: UnsafeBufferPointer<V>) -> Int
    where V: LaneCompare {
        var offset = 0
        while offset < end {
            let (a, b, c, d) = load4(start + offset, V.self)
            if V.anyEqual(a, b, c, d, needles) { return offset }
            offset += 4 * MemoryLayout<V>.stride
        }
        return end
    }

    /// One 256-byte block as four vectors.
    @inline(__always)
    private static func load4<V: SIMD>(_ p: UnsafeRawPointer, _: V.Type) -> (V, V, V, V) {
        let stride = MemoryLayout<V>.stride
        return (p.loadUnaligned(as: V.self), p.loadUnaligned(fromByteOffset: stride, as: V.self),
                p.loadUnaligned(fromByteOffset: 2 * stride, as: V.self), p.loadUnaligned(fromByteOffset: 3 * stride, as: V.self))
    }

    @inline(never)
    private func checkWords<T: FixedWidthInteger>(_ start: UnsafeRawPointer, from: Int, to: Int, _ address: UInt64,
                                                  _ sink: inout HitSink, _: T.Type) {
        var offset = from
        while offset < to {
            let word = UInt64(truncatingIfNeeded: T(littleEndian: start.loadUnaligned(fromByteOffset: offset, as: T.self)))
            for (index, value) in values.enumerated() where value == word {
                sink.record(address &+ UInt64(offset), needle: ids[index])
            }
            offset += width
        }
    }
}
