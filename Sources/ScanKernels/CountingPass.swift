/// The word census's exact pass: every word of every chunk accounted for. Values below 65536 go
/// to a direct array (when zero or small is counted), the candidates to exact counters, and
/// every other value of 65536 and above is either skipped by the filter or, when the census
/// wants a bound, counted into one of `sketchSize` hashed buckets: a value that is no candidate
/// occurs at most as often as its bucket's total over all threads, so the largest bucket bounds
/// every value the candidates leave out (a count-min sketch of one row).
///
/// On a heap of many distinct values this pass is the cost of the census, so its loop is a
/// function over locals: per word one multiply and one test of a candidate bitmap in L1, and
/// the buckets only when they can prove something (`WordHistogram` decides).
final class CountingPass {
    let width: Int
    let filter: WordFilter
    /// The candidates' table, shared read-only by all threads.
    let keys: UnsafeMutablePointer<UInt64>
    let slotMask: Int
    /// This thread's copy of the candidate bitmap, on its own cache lines.
    let candidateBits: UnsafeMutablePointer<UInt64>
    /// This thread's exact counts, by slot of `keys`.
    let counts: UnsafeMutablePointer<UInt64>
    /// Values below 65536, nil when zero and small are both skipped (they are then only counted).
    let direct: UnsafeMutablePointer<UInt64>?
    /// Saturating buckets, nil when the census wants no bound from this pass.
    let sketch: UnsafeMutablePointer<UInt32>?
    private let pending: UnsafeMutablePointer<UInt64>

    private(set) var words: UInt64 = 0
    /// Words of 65536 and above (the filter's input).
    private(set) var large: UInt64 = 0
    /// Words of 65536 and above the filter rejects.
    private(set) var rejected: UInt64 = 0

    /// Buckets per thread (32 KiB, in L1): larger ones cost more in cache misses than they win in
    /// a tighter bound.
    static let sketchSize = 1 << 13

    /// `table` must outlive the pass; `candidateBits` (from `candidateBits(of:)`) is copied.
    init(width: Int, filter: WordFilter, table: CountTable, candidateBits: UnsafePointer<UInt64>,
         countsSmall: Bool, bounds: Bool) {
        self.width = width
        self.filter = filter
        keys = table.keys
        slotMask = table.slotMask
        self.candidateBits = UnsafeMutableRawPointer.allocate(byteCount: 1 << 13, alignment: 64)
            .bindMemory(to: UInt64.self, capacity: 1 << 10)
        self.candidateBits.initialize(from: candidateBits, count: 1 << 10)
        counts = Self.zeroed(table.slotCount, UInt64.self)
        pending = .allocate(capacity: wordBlock)
        direct = countsSmall ? Self.zeroed(WordHistogram.directSize, UInt64.self) : nil
        sketch = bounds ? Self.zeroed(Self.sketchSize, UInt32.self) : nil
    }

    private static func zeroed<T: FixedWidthInteger>(_ count: Int, _: T.Type) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        return pointer
    }

    deinit {
        counts.deallocate()
        candidateBits.deallocate()
        pending.deallocate()
        direct?.deallocate()
        sketch?.deallocate()
    }

    /// One bit per 16-bit hash of the candidates: most words of a heap of many distinct values
    /// are no candidate, and the bitmap answers for them with one predictable branch instead of
    /// a probe sequence of unpredictable length. 8 KiB, so it stays in L1 beside the buckets.
    static func candidateBits(of table: CountTable) -> UnsafeMutablePointer<UInt64> {
        let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: 1 << 10)
        bits.initialize(repeating: 0, count: 1 << 10)
        for slot in 0..<table.slotCount where table.keys[slot] != 0 {
            let bit = hash(table.keys[slot]) >> 48
            bits[Int(bit >> 6)] |= 1 << (bit & 63)
        }
        return bits
    }

    /// Another multiplier than the tables' slot hash, so candidates' neighbours spread.
    @inline(__always)
    static func hash(_ value: UInt64) -> UInt64 { value &* 0xff51_afd7_ed55_8ccd }

    func count(_ chunk: ScanPlan.Chunk) {
        let (start, count) = alignedWords(chunk, width: width)
        words &+= UInt64(count)
        let tally = width == 8
            ? Self.count(start, count, UInt64.self, self)
            : Self.count(start, count, UInt32.self, self)
        large &+= tally.large
        rejected &+= tally.rejected
    }

    /// The loop over one chunk's words, block by block. A vector pass first tells whether a
    /// block holds small words, large ones or both: only a mixed block pays the branch-free
    /// compaction of its large values (a branch per word would mispredict on every few words of
    /// a typical heap); a block of only large values, as a heap of hashes is, goes straight to
    /// the per-value work, and one of only small values to the direct array.
    @inline(__always)
    private static func count<T: FixedWidthInteger & UnsignedInteger>(
        _ start: UnsafeRawPointer, _ count: Int, _: T.Type, _ pass: CountingPass
    ) -> (large: UInt64, rejected: UInt64) {
        let size = MemoryLayout<T>.size
        let pending = pass.pending
        let direct = pass.direct
        let keys = pass.keys
        let slotMask = pass.slotMask
        let bits = pass.candidateBits
        let counts = pass.counts
        let sketch = pass.sketch
        let filter = pass.filter
        // Bits of a word that make it 65536 or more, per 8-byte lane.
        let largeBits: UInt64 = T.bitWidth == 64 ? 0xffff_ffff_ffff_0000 : 0xffff_0000_ffff_0000
        var large: UInt64 = 0
        var rejected: UInt64 = 0

        // With only negative small numbers skipped (the default), rejection is one compare.
        let simpleFilter = filter.rejectionLimit != nil
        let limit = filter.rejectionLimit ?? 0

        @inline(__always)
        func tally(_ value: UInt64) {
            let hash = Self.hash(value)
            let bit = hash >> 48
            if bits[Int(truncatingIfNeeded: bit >> 6)] & (1 << (bit & 63)) != 0,
               let slot = CountTable.slot(of: value, keys: keys, mask: slotMask) {
                counts[slot] &+= 1
                return
            }
            if simpleFilter ? value > limit : filter.rejects(value) {
                rejected &+= 1
            } else if let sketch {
                let bucket = Int(truncatingIfNeeded: hash >> 51)
                let next = sketch[bucket] &+ 1
                if next != 0 { sketch[bucket] = next }
            }
        }

        // The previous block held only large words: on a heap of hashes the next one will too,
        // and it is read in one loop with no vector pass before it. The vector pass would have
        // to wait for memory before the per-value work could start; the one loop overlaps both.
        var largeRun = false
        var index = 0
        while index < count {
            let end = min(count, index + wordBlock)
            if largeRun {
                var small = 0
                @inline(__always)
                func one(_ value: T) {
                    if value >> 16 != 0 {
                        tally(UInt64(value))
                    } else {
                        small &+= 1
                        if let direct { direct[Int(truncatingIfNeeded: value)] &+= 1 }
                    }
                }
                var word = index
                if simpleFilter && sketch == nil {
                    // Eight words at a time without a branch: their bitmap bits and small flags
                    // ORed, their rejections summed; only a group with a bit set (a candidate, a
                    // bitmap collision or a small word: one in tens on a heap of hashes) is gone
                    // through again word by word.
                    while word &+ 8 <= end {
                        var marked: UInt64 = 0
                        var over: UInt64 = 0
                        for lane in word..<(word &+ 8) {
                            let value = T(littleEndian: start.loadUnaligned(fromByteOffset: lane &* size, as: T.self))
                            let bit = Self.hash(UInt64(value)) >> 48
                            marked |= bits[Int(truncatingIfNeeded: bit >> 6)] >> (bit & 63)
                            marked |= value >> 16 == 0 ? 1 : 0
                            over &+= UInt64(value) > limit ? 1 : 0
                        }
                        if marked & 1 == 0 {
                            rejected &+= over
                        } else {
                            for lane in word..<(word &+ 8) {
                                one(T(littleEndian: start.loadUnaligned(fromByteOffset: lane &* size, as: T.self)))
                            }
                        }
                        word &+= 8
                    }
                }
                while word < end {
                    one(T(littleEndian: start.loadUnaligned(fromByteOffset: word &* size, as: T.self)))
                    word &+= 1
                }
                large &+= UInt64(end - index - small)
                largeRun = small == 0
                index = end
                continue
            }
            let block = start + index &* size
            let kinds = BlockKinds(block, bytes: (end - index) &* size, largeBits: largeBits)
            largeRun = kinds.anyLarge && !kinds.anySmall
            if !kinds.anyLarge {
                if let direct {
                    if kinds.allZero {
                        direct[0] &+= UInt64(end - index)
                    } else {
                        for word in index..<end {
                            let value = T(littleEndian: start.loadUnaligned(fromByteOffset: word &* size, as: T.self))
                            direct[Int(truncatingIfNeeded: value)] &+= 1
                        }
                    }
                }
            } else if !kinds.anySmall {
                large &+= UInt64(end - index)
                for word in index..<end {
                    tally(UInt64(T(littleEndian: start.loadUnaligned(fromByteOffset: word &* size, as: T.self))))
                }
            } else {
                var found = 0
                if let direct {
                    for word in index..<end {
                        let value = T(littleEndian: start.loadUnaligned(fromByteOffset: word &* size, as: T.self))
                        let flag = largeFlag(UInt64(value))
                        pending[found] = UInt64(value)
                        found &+= Int(flag)
                        direct[Int(truncatingIfNeeded: value & 0xffff)] &+= 1 &- flag
                    }
                } else {
                    for word in index..<end {
                        let value = T(littleEndian: start.loadUnaligned(fromByteOffset: word &* size, as: T.self))
                        pending[found] = UInt64(value)
                        found &+= Int(largeFlag(UInt64(value)))
                    }
                }
                large &+= UInt64(found)
                for item in 0..<found { tally(pending[item]) }
            }
            index = end
        }
        return (large, rejected)
    }
}

/// What a vector pass over a block of words tells: whether any word is 65536 or more, any
/// below, and whether all are zero. A tail shorter than 128 bytes counts as mixed (the scalar
/// loops then decide word by word).
struct BlockKinds {
    let anyLarge: Bool
    let anySmall: Bool
    let allZero: Bool

    /// `largeBits`: the bits of an 8-byte lane that make its word (or, at width 4, either of
    /// its two words) 65536 or more.
    @inline(__always)
    init(_ start: UnsafeRawPointer, bytes: Int, largeBits: UInt64) {
        let zero = SIMD8<UInt64>()
        let wide = largeBits == 0xffff_ffff_ffff_0000
        // A word is small when none of its large bits is set: at width 4 each lane holds two.
        let low = SIMD8<UInt64>(repeating: wide ? largeBits : 0xffff_0000)
        let high = SIMD8<UInt64>(repeating: wide ? largeBits : 0xffff_0000_0000_0000)
        var any = zero
        var small = SIMDMask<SIMD8<Int64>>(repeating: false)
        var offset = 0
        while offset + 128 <= bytes {
            let a = start.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt64>.self)
            let b = start.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<UInt64>.self)
            any |= a | b
            small .|= (a & low) .== zero .| (b & low) .== zero .| (a & high) .== zero .| (b & high) .== zero
            offset += 128
        }
        let tail = offset < bytes
        anyLarge = tail || Swift.any((any & SIMD8<UInt64>(repeating: largeBits)) .!= zero)
        anySmall = tail || Swift.any(small)
        allZero = !tail && !Swift.any(any .!= zero)
    }
}
