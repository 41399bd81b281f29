/// Finds integer needles of one width at addresses aligned to that width. Memory is read as
/// 32-byte vectors, eight per 256-byte block; the compare masks of all needles are OR-ed and
/// tested once per block, and only a block with a hit is read again, word by word, on the cold
/// path.
struct AlignedFindKernel {
    let width: Int
    let values: [UInt64]
    /// Index of each value in the pattern's needle list.
    let ids: [Int]

    /// Scans the `wordCount` words that start at `start` (which holds address `address`, aligned).
    func scan(_ start: UnsafeRawPointer, wordCount: Int, address: UInt64, into sink: inout HitSink) {
        switch width {
        case 8: scanWords(start, wordCount, address, &sink, SIMD4<UInt64>.self)
        case 4: scanWords(start, wordCount, address, &sink, SIMD8<UInt32>.self)
        default: scanWords(start, wordCount, address, &sink, SIMD16<UInt16>.self)
        }
    }

    @inline(__always)
    private func scanWords<V: LaneCompare>(_ start: UnsafeRawPointer, _ wordCount: Int, _ address: UInt64,
                                    _ sink: inout HitSink, _: V.Type) where V: LaneCompare {
        let byteCount = wordCount * width
        let blockBytes = 256
        let blockEnd = byteCount - byteCount % blockBytes
        let splats = values.map { V(repeating: V.Scalar(truncatingIfNeeded: $0)) }
        if !sink.collecting && values.count == 1 {
            // Only counted: every block is compared, no hit is looked at (dense hits would
            // send most blocks down the word-by-word path).
            sink.add(Self.countLoop(start, blockEnd, splats[0]), needle: ids[0])
            checkWords(start, from: blockEnd, to: byteCount, address, &sink, V.Scalar.self)
            return
        }
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
    private static func hotLoopOne<V: LaneCompare>(_ start: UnsafeRawPointer, _ end: Int, _ needle: V) -> Int {
        var offset = 0
        while offset < end {
            if V.blockHas(start + offset, needle) { return offset }
            offset += 256
        }
        return end
    }

    /// Hits of the needle in `end` bytes (whole 256-byte blocks). Lanes count at most 8 per
    /// block; the driver's slices (`Finder.sliceSize`) keep 16-bit lanes from wrapping.
    @inline(__always)
    private static func countLoop<V: LaneCompare>(_ start: UnsafeRawPointer, _ end: Int, _ needle: V) -> UInt64 {
        var total = V()
        var offset = 0
        while offset < end {
            V.blockCount(start + offset, needle, into: &total)
            offset += 256
        }
        var sum: UInt64 = 0
        for lane in total.indices { sum &+= UInt64(total[lane]) }
        return sum
    }

    @inline(__always)
    private static func hotLoopMany<V: LaneCompare>(_ start: UnsafeRawPointer, _ end: Int, _ needles: UnsafeBufferPointer<V>) -> Int {
        var offset = 0
        while offset < end {
            if V.blockHas(start + offset, needles) { return offset }
            offset += 256
        }
        return end
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
