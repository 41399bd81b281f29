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
        any((a .== needle) .| (b .== needle) .| (c .== needle) .| (d .== needle))
    }

    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needles: UnsafeBufferPointer<Self>) -> Bool {
        var mask = SIMDMask<MaskStorage>(repeating: false)
        for n in needles { mask = mask .| (a .== n) .| (b .== n) .| (c .== n) .| (d .== n) }
        return any(mask)
    }
}

extension SIMD16: LaneCompare where Scalar == UInt32 {
    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needle: Self) -> Bool {
        any((a .== needle) .| (b .== needle) .| (c .== needle) .| (d .== needle))
    }

    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needles: UnsafeBufferPointer<Self>) -> Bool {
        var mask = SIMDMask<MaskStorage>(repeating: false)
        for n in needles { mask = mask .| (a .== n) .| (b .== n) .| (c .== n) .| (d .== n) }
        return any(mask)
    }
}

extension SIMD32: LaneCompare where Scalar == UInt16 {
    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needle: Self) -> Bool {
        any((a .== needle) .| (b .== needle) .| (c .== needle) .| (d .== needle))
    }

    @inline(__always)
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needles: UnsafeBufferPointer<Self>) -> Bool {
        var mask = SIMDMask<MaskStorage>(repeating: false)
        for n in needles { mask = mask .| (a .== n) .| (b .== n) .| (c .== n) .| (d .== n) }
        return any(mask)
    }
}
