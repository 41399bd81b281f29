/// The vector compares the aligned find kernel needs, implemented on each concrete vector type.
/// Swift only emits single vector instructions for `.==` and `any` when the static type is
/// a concrete `SIMDn`; inside code generic over `SIMD` it falls back to lane-by-lane loops
/// (measured 10–30× slower here). Generic kernels call these instead.
protocol LaneCompare: SIMD where Scalar: FixedWidthInteger & UnsignedInteger {
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needle: Self) -> Bool
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needles: UnsafeBufferPointer<Self>) -> Bool
}

extension SIMD8: LaneCompare where Scalar == UInt64 {
    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needle: Self) -> Bool {
        anyLane((a .== needle) .| (b .== needle) .| (c .== needle) .| (d .== needle))
    }

    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needles: UnsafeBufferPointer<Self>) -> Bool {
        var mask = SIMDMask<MaskStorage>(repeating: false)
        for n in needles { mask = mask .| (a .== n) .| (b .== n) .| (c .== n) .| (d .== n) }
        return anyLane(mask)
    }
}

extension SIMD16: LaneCompare where Scalar == UInt32 {
    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needle: Self) -> Bool {
        anyLane((a .== needle) .| (b .== needle) .| (c .== needle) .| (d .== needle))
    }

    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needles: UnsafeBufferPointer<Self>) -> Bool {
        var mask = SIMDMask<MaskStorage>(repeating: false)
        for n in needles { mask = mask .| (a .== n) .| (b .== n) .| (c .== n) .| (d .== n) }
        return anyLane(mask)
    }
}

extension SIMD32: LaneCompare where Scalar == UInt16 {
    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needle: Self) -> Bool {
        anyLane((a .== needle) .| (b .== needle) .| (c .== needle) .| (d .== needle))
    }

    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needles: UnsafeBufferPointer<Self>) -> Bool {
        var mask = SIMDMask<MaskStorage>(repeating: false)
        for n in needles { mask = mask .| (a .== n) .| (b .== n) .| (c .== n) .| (d .== n) }
        return anyLane(mask)
    }
}

/// `any(mask)` for a 64-byte mask, as one 256-bit test: Swift lowers `any` on wide masks to a
/// loop over lanes, but a mask's lanes are all-ones or all-zero bytes, so testing its bits as
/// eight 64-bit words gives the same answer.
@inline(__always)
func anyLane<Storage>(_ mask: SIMDMask<Storage>) -> Bool {
    any(maskWords(mask) .!= SIMD8<UInt64>())
}

/// The bytes of a 64-byte mask as eight words (each lane's bytes all-ones or all-zero).
@inline(__always)
func maskWords<Storage>(_ mask: SIMDMask<Storage>) -> SIMD8<UInt64> {
    precondition(MemoryLayout<SIMDMask<Storage>>.size == 64)
    return unsafeBitCast(mask, to: SIMD8<UInt64>.self)
}
