/// The plain memory-read loop that kernel speeds are compared against: every byte of a chunk
/// loaded once as vectors and folded with XOR, no compares. A kernel at 1.0× of this is bound by
/// memory, not by its own work.
public enum ReadBaseline {
    /// XOR of all 8-byte lanes (the result only keeps the loads from being optimised away).
    public static func fold(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let start = bytes.baseAddress else { return 0 }
        let blockEnd = bytes.count - bytes.count % 256
        var a = SIMD8<UInt64>(), b = SIMD8<UInt64>(), c = SIMD8<UInt64>(), d = SIMD8<UInt64>()
        var offset = 0
        while offset < blockEnd {
            let p = start + offset
            a ^= p.loadUnaligned(as: SIMD8<UInt64>.self)
            b ^= p.loadUnaligned(fromByteOffset: 64, as: SIMD8<UInt64>.self)
            c ^= p.loadUnaligned(fromByteOffset: 128, as: SIMD8<UInt64>.self)
            d ^= p.loadUnaligned(fromByteOffset: 192, as: SIMD8<UInt64>.self)
            offset += 256
        }
        var folded = (a ^ b ^ c ^ d).wrappedSum()
        while offset < bytes.count {
            folded ^= UInt64(bytes[offset])
            offset += 1
        }
        return folded
    }

    /// `fold` over every chunk of a plan, on all threads.
    public static func fold(_ plan: ScanPlan, threads: Int = ParallelScan.defaultThreadCount) -> UInt64 {
        ParallelScan.forEachChunk(of: plan, threads: threads, makeState: { _ in UInt64(0) }) { state, chunk in
            state ^= fold(chunk.bytes)
        }.reduce(0, ^)
    }
}
