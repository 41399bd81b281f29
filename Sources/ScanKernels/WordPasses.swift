/// The per-thread loops of the word census. A block of words is first read without a single
/// data-dependent branch: values of 65536 and above are compacted into a small buffer (and, in
/// pass 1, values below are counted in the direct array). The buffer, about one word in twenty
/// on a heap, then gets the per-value work (hash probes, summaries). Branch mispredictions in
/// the first step would stall the memory stream; in the second they cost no memory bandwidth.
protocol WordPass: AnyObject {
    var width: Int { get }
    /// Room for one block of large values.
    var pending: UnsafeMutablePointer<UInt64> { get }
    /// Handles one value of 65536 or more; false stops the pass (a full table).
    func large(_ value: UInt64) -> Bool
    /// The direct array of pass 1 (values below 65536), nil when they are not counted (the
    /// exact passes, and pass 1 when zero and small are both skipped).
    var direct: UnsafeMutablePointer<UInt64>? { get }
}

/// Words per block: small enough that the compacted values stay in L1.
let wordBlock = 1024

/// 1 when `value` is 65536 or more, else 0, by arithmetic: written as a comparison, the compiler
/// turns it back into a branch that mispredicts on every few words of a heap.
@inline(__always)
func largeFlag(_ value: UInt64) -> UInt64 {
    let high = value >> 16
    return (high | (0 &- high)) >> 63
}

extension WordPass {
    /// False when `large` stopped the pass.
    @inline(__always)
    func run(_ chunk: ScanPlan.Chunk) -> Bool {
        let (start, count) = alignedWords(chunk, width: width)
        return width == 8 ? run(start, count, UInt64.self) : run(start, count, UInt32.self)
    }

    @inline(__always)
    private func run<T: FixedWidthInteger & UnsignedInteger>(_ start: UnsafeRawPointer, _ count: Int, _: T.Type) -> Bool {
        let pending = self.pending
        let direct = self.direct
        var index = 0
        // Bits of a word that make it 65536 or more, per 8-byte lane.
        let largeBits: UInt64 = T.bitWidth == 64 ? 0xffff_ffff_ffff_0000 : 0xffff_0000_ffff_0000
        while index < count {
            let end = min(count, index + wordBlock)
            // A vector pass over the block first: it streams the block into L1 with many loads in
            // flight (the scalar loop below would wait on memory one line at a time), and lets
            // the exact passes skip blocks without a large value, common in real heaps.
            let blockBytes = (end - index) * MemoryLayout<T>.size
            let blockStart = start + index * MemoryLayout<T>.size
            if direct == nil && !Self.anyLarge(blockStart, bytes: blockBytes, largeBits) {
                index = end
                continue
            }
            if let direct, !Self.anyLarge(blockStart, bytes: blockBytes, .max) {
                // All zero, as long stretches of a heap are.
                direct[0] &+= UInt64(end - index)
                index = end
                continue
            }
            var found = 0
            if let direct {
                for word in index..<end {
                    let value = T(littleEndian: start.loadUnaligned(fromByteOffset: word &* MemoryLayout<T>.size, as: T.self))
                    let large = largeFlag(UInt64(value))
                    pending[found] = UInt64(value)
                    found &+= Int(large)
                    direct[Int(truncatingIfNeeded: value & 0xffff)] &+= 1 &- large
                }
            } else {
                for word in index..<end {
                    let value = T(littleEndian: start.loadUnaligned(fromByteOffset: word &* MemoryLayout<T>.size, as: T.self))
                    pending[found] = UInt64(value)
                    found &+= Int(largeFlag(UInt64(value)))
                }
            }
            for item in 0..<found {
                guard large(pending[item]) else { return false }
            }
            index = end
        }
        return true
    }

    /// Whether any word in `bytes` bytes at `start` has one of `largeBits` set (a trailing part
    /// shorter than 64 bytes counts as large: the scalar loop then decides).
    @inline(__always)
    static func anyLarge(_ start: UnsafeRawPointer, bytes: Int, _ largeBits: UInt64) -> Bool {
        let mask = SIMD8<UInt64>(repeating: largeBits)
        var a = SIMD8<UInt64>(), b = SIMD8<UInt64>()
        var offset = 0
        while offset + 128 <= bytes {
            a |= start.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt64>.self)
            b |= start.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<UInt64>.self)
            offset += 128
        }
        return offset < bytes || any(((a | b) & mask) .!= SIMD8<UInt64>())
    }
}

/// Memory a pass owns for as long as it lives.
final class WordBuffer {
    let pointer: UnsafeMutablePointer<UInt64>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    deinit { pointer.deallocate() }
}

/// Pass 1: direct counts below 65536 (unless zero and small are both skipped), the
/// heavy-hitter summary above.
final class CandidatePass: WordPass {
    let width: Int
    let filter: WordFilter
    let heavy: HeavyHitters
    private let pendingBuffer = WordBuffer(count: wordBlock)
    private let directBuffer: WordBuffer?
    private(set) var words: UInt64 = 0
    private(set) var skipped: UInt64 = 0
    private(set) var considered: UInt64 = 0

    init(width: Int, filter: WordFilter, capacity: Int, countsSmall: Bool) {
        self.width = width
        self.filter = filter
        heavy = HeavyHitters(capacity: capacity)
        directBuffer = countsSmall ? WordBuffer(count: WordHistogram.directSize) : nil
    }

    var pending: UnsafeMutablePointer<UInt64> { pendingBuffer.pointer }
    var direct: UnsafeMutablePointer<UInt64>? { directBuffer?.pointer }
    var countsSmall: Bool { directBuffer != nil }

    func count(_ chunk: ScanPlan.Chunk) {
        words &+= UInt64(alignedWords(chunk, width: width).count)
        _ = run(chunk)
    }

    func large(_ value: UInt64) -> Bool {
        if filter.rejects(value) {
            skipped &+= 1
            return true
        }
        considered &+= 1
        if sampled {
            // Pass 2 recounts the candidates and bounds every other value itself (`CountingPass`):
            // on a big heap the summary only has to find the heavy values, which every
            // sixteenth occurrence does, at a sixteenth of the decrements.
            tick &+= 1
            guard tick & (Self.sampleEvery - 1) == 0 else { return true }
        }
        heavy.add(value)
        sampled = considered >= Self.sampleAfter && heavy.decrement > 0
        return true
    }

    static let sampleEvery: UInt64 = 16
    /// Values seen in full before sampling may start: a small heap, or the start of any heap,
    /// is summarised whole, so values of a few hundred occurrences are not lost to sampling.
    static let sampleAfter: UInt64 = 1 << 20
    /// True once this thread's summary saw only every sixteenth value: its decrement then
    /// bounds nothing, and the census relies on pass 2's bound alone.
    private(set) var sampled = false
    private var tick: UInt64 = 0
}

/// One pass of the full exact count: the values of one hash partition.
final class PartitionPass: WordPass {
    let width: Int
    let filter: WordFilter
    let table: CountTable
    let bits: Int
    let index: UInt64
    private let pendingBuffer = WordBuffer(count: wordBlock)

    init(width: Int, filter: WordFilter, table: CountTable, bits: Int, index: UInt64) {
        self.width = width
        self.filter = filter
        self.table = table
        self.bits = bits
        self.index = index
    }

    var pending: UnsafeMutablePointer<UInt64> { pendingBuffer.pointer }
    var direct: UnsafeMutablePointer<UInt64>? { nil }

    /// False when the partition holds more distinct values than the table.
    func count(_ chunk: ScanPlan.Chunk) -> Bool { run(chunk) }

    func large(_ value: UInt64) -> Bool {
        // A different multiplier from the table's slot hash, so partitions fill slots evenly.
        guard (value &* 0xff51_afd7_ed55_8ccd) >> UInt64(64 - bits) == index || bits == 0 else { return true }
        if filter.rejects(value) { return true }
        return table.increment(value)
    }
}
