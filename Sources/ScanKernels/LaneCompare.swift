/// The vector compares of the aligned find kernel, on 32-byte vectors (one AVX2 register) of
/// each lane width. Swift emits single vector instructions for `.==`, `.|` and `any` only when
/// the static type is a concrete `SIMDn`; in code generic over `SIMD` they become lane-by-lane
/// loops (measured 10–30× slower here). Wider vectors (`SIMD16<UInt32>`) make LLVM pack every
/// mask before OR-ing it. So each width has its own short, concrete copy of the block test.
protocol LaneCompare: SIMD where Scalar: FixedWidthInteger & UnsignedInteger {
    /// Whether a lane of any of the eight vectors at `p` (256 bytes) equals the needle's lane.
    static func blockHas(_ p: UnsafeRawPointer, _ needle: Self) -> Bool
    static func blockHas(_ p: UnsafeRawPointer, _ needles: UnsafeBufferPointer<Self>) -> Bool
    /// Adds one to a lane of `total` for each of the eight vectors at `p` whose lane equals the
    /// needle's: counting without a branch, for `find --count` on dense hits.
    static func blockCount(_ p: UnsafeRawPointer, _ needle: Self, into total: inout Self)
}

extension SIMD4: LaneCompare where Scalar == UInt64 {
    @inline(__always)
    static func blockCount(_ p: UnsafeRawPointer, _ needle: Self, into total: inout Self) {
        // A true lane is all ones: subtracting it adds one.
        for vector in 0..<8 {
            total &-= unsafeBitCast(p.loadUnaligned(fromByteOffset: vector * 32, as: Self.self) .== needle, to: Self.self)
        }
    }

    @inline(__always)
    static func blockHas(_ p: UnsafeRawPointer, _ needle: Self) -> Bool {
        var mask = p.loadUnaligned(as: Self.self) .== needle
        for vector in 1..<8 { mask = mask .| (p.loadUnaligned(fromByteOffset: vector * 32, as: Self.self) .== needle) }
        return any(mask)
    }

    @inline(__always)
    static func blockHas(_ p: UnsafeRawPointer, _ needles: UnsafeBufferPointer<Self>) -> Bool {
        var mask = SIMDMask<MaskStorage>(repeating: false)
        for vector in 0..<8 {
            let words = p.loadUnaligned(fromByteOffset: vector * 32, as: Self.self)
            for needle in needles { mask = mask .| (words .== needle) }
        }
        return any(mask)
    }
}

extension SIMD8: LaneCompare where Scalar == UInt32 {
    @inline(__always)
    static func blockCount(_ p: UnsafeRawPointer, _ needle: Self, into total: inout Self) {
        // A true lane is all ones: subtracting it adds one.
        for vector in 0..<8 {
            total &-= unsafeBitCast(p.loadUnaligned(fromByteOffset: vector * 32, as: Self.self) .== needle, to: Self.self)
        }
    }

    @inline(__always)
    static func blockHas(_ p: UnsafeRawPointer, _ needle: Self) -> Bool {
        var mask = p.loadUnaligned(as: Self.self) .== needle
        for vector in 1..<8 { mask = mask .| (p.loadUnaligned(fromByteOffset: vector * 32, as: Self.self) .== needle) }
        return any(mask)
    }

    @inline(__always)
    static func blockHas(_ p: UnsafeRawPointer, _ needles: UnsafeBufferPointer<Self>) -> Bool {
        var mask = SIMDMask<MaskStorage>(repeating: false)
        for vector in 0..<8 {
            let words = p.loadUnaligned(fromByteOffset: vector * 32, as: Self.self)
            for needle in needles { mask = mask .| (words .== needle) }
        }
        return any(mask)
    }
}

extension SIMD16: LaneCompare where Scalar == UInt16 {
    @inline(__always)
    static func blockCount(_ p: UnsafeRawPointer, _ needle: Self, into total: inout Self) {
        // A true lane is all ones: subtracting it adds one.
        for vector in 0..<8 {
            total &-= unsafeBitCast(p.loadUnaligned(fromByteOffset: vector * 32, as: Self.self) .== needle, to: Self.self)
        }
    }

    @inline(__always)
    static func blockHas(_ p: UnsafeRawPointer, _ needle: Self) -> Bool {
        var mask = p.loadUnaligned(as: Self.self) .== needle
        for vector in 1..<8 { mask = mask .| (p.loadUnaligned(fromByteOffset: vector * 32, as: Self.self) .== needle) }
        return anyLane(mask)
    }

    @inline(__always)
    static func blockHas(_ p: UnsafeRawPointer, _ needles: UnsafeBufferPointer<Self>) -> Bool {
        var mask = SIMDMask<MaskStorage>(repeating: false)
        for vector in 0..<8 {
            let words = p.loadUnaligned(fromByteOffset: vector * 32, as: Self.self)
            for needle in needles { mask = mask .| (words .== needle) }
        }
        return anyLane(mask)
    }
}

/// `any(mask)` for masks whose `any` Swift lowers to a call or a loop over lanes (16-bit lanes,
/// 64-byte masks): a mask's lanes are all-ones or all-zero, so testing its bytes as 64-bit
/// words gives the same answer in plain vector instructions.
@inline(__always)
func anyLane<Storage>(_ mask: SIMDMask<Storage>) -> Bool {
    switch MemoryLayout<SIMDMask<Storage>>.size {
    case 32: return any(unsafeBitCast(mask, to: SIMD4<UInt64>.self) .!= SIMD4<UInt64>())
    default: return any(maskWords(mask) .!= SIMD8<UInt64>())
    }
}

/// The bytes of a 64-byte mask as eight words (each lane's bytes all-ones or all-zero).
@inline(__always)
func maskWords<Storage>(_ mask: SIMDMask<Storage>) -> SIMD8<UInt64> {
    precondition(MemoryLayout<SIMDMask<Storage>>.size == 64)
    return unsafeBitCast(mask, to: SIMD8<UInt64>.self)
}
