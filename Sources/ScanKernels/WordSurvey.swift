/// Pass 1 of the word census on a big plan: the heavy-hitter summary over a sample of the
/// memory instead of all of it. The plan is cut into 512-byte blocks at fixed addresses and one
/// block in `stride` is read, chosen by a hash of its address so that no heap layout lines up
/// with the choice (a magic every 64 KiB is seen in its share of blocks, not in all or none).
/// Small blocks keep the sample spread: a value filling one 100 KiB array still lands in a few
/// hundred sampled words. Only which values are candidates comes from here; the counting pass
/// counts them, and everything else, exactly.
final class WordSurvey {
    let width: Int
    let filter: WordFilter
    /// log2 of the sampling stride (0: every block).
    let strideShift: Int
    let heavy: HeavyHitters
    /// Sampled words of 65536 and above the filter keeps: the summary's input.
    private(set) var considered: UInt64 = 0

    static let blockShift = 9

    init(width: Int, filter: WordFilter, capacity: Int, strideShift: Int) {
        self.width = width
        self.filter = filter
        self.strideShift = strideShift
        heavy = HeavyHitters(capacity: capacity)
    }

    /// The stride, as a shift, that samples about `budget` bytes of `total`.
    static func strideShift(total: UInt64, budget: UInt64) -> Int {
        var shift = 0
        while shift < 32 && total >> UInt64(shift) > budget { shift += 1 }
        return shift
    }

    @inline(__always)
    static func isSampled(blockAddress: UInt64, strideShift: Int) -> Bool {
        strideShift == 0 || ((blockAddress >> UInt64(blockShift)) &* 0x9e37_79b9_7f4a_7c15) >> UInt64(64 - strideShift) == 0
    }

    func survey(_ chunk: ScanPlan.Chunk) {
        let (start, count) = alignedWords(chunk, width: width)
        guard count > 0, let base = chunk.bytes.baseAddress else { return }
        // The aligned words' first address, then block by block at 512-byte boundaries.
        let firstAddress = chunk.address &+ UInt64(start - base)
        let blockBytes = UInt64(1) << UInt64(Self.blockShift)
        var word = 0
        while word < count {
            let address = firstAddress &+ UInt64(word &* width)
            let blockEnd = (address | (blockBytes - 1)) &+ 1
            let end = min(count, word + Int((blockEnd &- address) / UInt64(width)))
            if Self.isSampled(blockAddress: address, strideShift: strideShift) {
                let first = start + word &* width
                if width == 8 {
                    add(first, end - word, UInt64.self)
                } else {
                    add(first, end - word, UInt32.self)
                }
            }
            word = max(end, word + 1)
        }
    }

    @inline(__always)
    private func add<T: FixedWidthInteger & UnsignedInteger>(_ start: UnsafeRawPointer, _ count: Int, _: T.Type) {
        var kept: UInt64 = 0
        for index in 0..<count {
            let value = UInt64(T(littleEndian: start.loadUnaligned(fromByteOffset: index &* MemoryLayout<T>.size, as: T.self)))
            if value >= WordClassifier.smallLimit && !filter.rejects(value) {
                heavy.add(value)
                kept &+= 1
            }
        }
        considered &+= kept
    }
}
