/// The one pass over writable memory that finds the extent map without symbols: every 8-byte
/// word that could be an extent-map leaf entry is reported to a cold path that checks it.
///
/// A word passes when its size index (top 16 bits) is 1…`sizeCount` (a slab or large extent,
/// or "no class" for a free one), bits 5–6 are clear and its edata bits are non-zero. Ordinary
/// pointers (index 0), text and floating-point values (index ≥ 0x2020 or so) fail, so the cold
/// path sees few words besides real entries. Entries of the 8-byte class (index 0) are left
/// out on purpose: they look like odd pointers (redis's sds strings are all odd) and would
/// flood the cold path; every other class still votes.
enum LeafEntryScan {
    /// Calls `candidate(offset)` for the byte offset of each passing 8-byte-aligned word of
    /// `bytes` (which must start 8-byte aligned in the address space).
    static func scan(_ bytes: UnsafeRawBufferPointer, sizeCount: Int, candidate: (Int) -> Void) {
        let bound = SIMD8<UInt64>(repeating: UInt64(sizeCount))
        WordBlocks.scan(bytes, flag: { flag($0, bound) },
                        word: { passes($0, sizeCount: sizeCount) }, hit: candidate)
    }

    /// Most of `passes` as integer arithmetic, so it stays in vector registers (mask operations
    /// on `SIMDMask` are lowered lane by lane): `key` is the size index, pushed far out of range
    /// when bits 5–6 are set; the top bit of the result is set iff `key - 1 < sizeCount`. The
    /// rare word that passes with zero edata bits (a cleared entry) is dropped on the cold path.
    @inline(__always)
    private static func flag(_ w: SIMD8<UInt64>, _ bound: SIMD8<UInt64>) -> SIMD8<UInt64> {
        let key = (w &>> 48) | ((w & 0x60) &<< 20)
        let below = key &- 1
        return (below &- bound) & ~below
    }

    @inline(__always)
    static func passes(_ word: UInt64, sizeCount: Int) -> Bool {
        guard word & JemallocLayout.edataPointerMask != 0, word & 0x60 == 0 else { return false }
        return ((word >> 48) &- 1) < UInt64(sizeCount)
    }
}

/// Equality search for one 64-bit value (a leaf's address, to find the root slot holding it).
enum WordSearch {
    static func find(_ value: UInt64, in bytes: UnsafeRawBufferPointer, found: (Int) -> Void) {
        let needle = SIMD8<UInt64>(repeating: value)
        // x == 0 exactly when the top bit of (x - 1) & ~x is set.
        WordBlocks.scan(bytes, flag: { let x = $0 ^ needle; return (x &- 1) & ~x }, word: { $0 == value }, hit: found)
    }
}

/// The shape both scans share: test 256 bytes at a time with a SIMD predicate whose lanes have
/// their top bit set on a hit (four vectors OR-ed, one test), and only for flagged blocks
/// re-read the words one by one on a cold path.
enum WordBlocks {
    @inline(__always)
    static func scan(_ bytes: UnsafeRawBufferPointer, flag: (SIMD8<UInt64>) -> SIMD8<UInt64>,
                     word: (UInt64) -> Bool, hit: (Int) -> Void) {
        guard let base = bytes.baseAddress, bytes.count >= 8 else { return }
        let blocks = bytes.count / 256
        var offset = 0
        for _ in 0..<blocks {
            let w0 = base.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt64>.self)
            let w1 = base.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<UInt64>.self)
            let w2 = base.loadUnaligned(fromByteOffset: offset + 128, as: SIMD8<UInt64>.self)
            let w3 = base.loadUnaligned(fromByteOffset: offset + 192, as: SIMD8<UInt64>.self)
            if anyTopBit(flag(w0) | flag(w1) | flag(w2) | flag(w3)) {
                coldBlock(base, offset, 256, word, hit)
            }
            offset += 256
        }
        let tail = (bytes.count - offset) & ~7
        if tail > 0 { coldBlock(base, offset, tail, word, hit) }
    }

    /// Whether any lane has its top bit set, by folding the lanes together: `any` over a
    /// comparison mask is lowered lane by lane and cost as much as the scan itself.
    @inline(__always)
    static func anyTopBit(_ lanes: SIMD8<UInt64>) -> Bool {
        let four = lanes.lowHalf | lanes.highHalf
        let two = four.lowHalf | four.highHalf
        return (two[0] | two[1]) >> 63 != 0
    }

    /// Whether any lane is non-zero.
    @inline(__always)
    static func anyNonzero(_ lanes: SIMD8<UInt64>) -> Bool {
        let four = lanes.lowHalf | lanes.highHalf
        let two = four.lowHalf | four.highHalf
        return two[0] | two[1] != 0
    }

    @inline(never)
    private static func coldBlock(_ base: UnsafeRawPointer, _ start: Int, _ length: Int,
                                  _ word: (UInt64) -> Bool, _ hit: (Int) -> Void) {
        var offset = start
        while offset < start + length {
            if word(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))) { hit(offset) }
            offset += 8
        }
    }
}
