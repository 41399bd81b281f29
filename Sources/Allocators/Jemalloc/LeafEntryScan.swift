/// The one pass over writable memory that finds the extent map without symbols: every 8-byte
/// word that could be an extent-map leaf entry is reported to a cold path that checks it.
///
/// A word passes when its edata bits are non-zero, bits 5–6 are clear, and either its size
/// index is 1…`sizeCount` (slab, large or free extent) or it is 0 with the slab bit set (the
/// 8-byte class). Ordinary pointers (index 0, slab bit clear), text and floating-point values
/// (index ≥ 0x2020 or so) fail, so the cold path sees few words besides real entries.
enum LeafEntryScan {
    /// Calls `candidate(offset)` for the byte offset of each passing 8-byte-aligned word of
    /// `bytes` (which must start 8-byte aligned in the address space).
    static func scan(_ bytes: UnsafeRawBufferPointer, sizeCount: Int, candidate: (Int) -> Void) {
        let limit = UInt64(sizeCount)
        WordBlocks.scan(bytes, flag: { mask($0, limit) },
                        word: { passes($0, sizeCount: sizeCount) }, hit: candidate)
    }

    @inline(__always)
    private static func mask(_ w: SIMD8<UInt64>, _ limit: UInt64) -> SIMDMask<SIMD8<Int64>> {
        let edata = (w & SIMD8(repeating: JemallocLayout.edataPointerMask)) .!= SIMD8(repeating: 0)
        let padding = (w & SIMD8(repeating: 0x60)) .== SIMD8(repeating: 0)
        let index = (w &>> SIMD8(repeating: 48)) &- SIMD8(repeating: 1)
        let sized = index .< SIMD8(repeating: limit)
        let tinySlab = (w & SIMD8(repeating: 0xffff_0000_0000_0001)) .== SIMD8(repeating: 1)
        return edata .& padding .& (sized .| tinySlab)
    }

    @inline(__always)
    static func passes(_ word: UInt64, sizeCount: Int) -> Bool {
        guard word & JemallocLayout.edataPointerMask != 0, word & 0x60 == 0 else { return false }
        let index = word >> 48
        return (index &- 1) < UInt64(sizeCount) || (index == 0 && word & 1 == 1)
    }
}

/// Equality search for one 64-bit value (a leaf's address, to find the root slot holding it).
enum WordSearch {
    static func find(_ value: UInt64, in bytes: UnsafeRawBufferPointer, found: (Int) -> Void) {
        let needle = SIMD8<UInt64>(repeating: value)
        WordBlocks.scan(bytes, flag: { $0 .== needle }, word: { $0 == value }, hit: found)
    }
}

/// The shape both scans share: test 256 bytes at a time with a SIMD predicate (four vectors,
/// one `any`), and only for flagged blocks re-read the words one by one on a cold path.
enum WordBlocks {
    @inline(__always)
    static func scan(_ bytes: UnsafeRawBufferPointer, flag: (SIMD8<UInt64>) -> SIMDMask<SIMD8<Int64>>,
                     word: (UInt64) -> Bool, hit: (Int) -> Void) {
        guard let base = bytes.baseAddress, bytes.count >= 8 else { return }
        let blocks = bytes.count / 256
        var offset = 0
        for _ in 0..<blocks {
            let w0 = base.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt64>.self)
            let w1 = base.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<UInt64>.self)
            let w2 = base.loadUnaligned(fromByteOffset: offset + 128, as: SIMD8<UInt64>.self)
            let w3 = base.loadUnaligned(fromByteOffset: offset + 192, as: SIMD8<UInt64>.self)
            if any(flag(w0) .| flag(w1) .| flag(w2) .| flag(w3)) {
                coldBlock(base, offset, 256, word, hit)
            }
            offset += 256
        }
        let tail = (bytes.count - offset) & ~7
        if tail > 0 { coldBlock(base, offset, tail, word, hit) }
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
