/// The few vector operations the kernels need, implemented on each concrete vector type.
/// Swift only emits single vector instructions for `.==`, `.>` and `any` when the static type is
/// a concrete `SIMDn`; inside code generic over `SIMD` it falls back to lane-by-lane loops
/// (measured 10–30× slower here). Generic kernels call these instead.
protocol LaneCompare: SIMD where Scalar: FixedWidthInteger & UnsignedInteger {
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needle: Self) -> Bool
    static func anyEqual(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ needles: UnsafeBufferPointer<Self>) -> Bool
    /// True when every lane is below 65536.
    static func allSmall(_ vector: Self) -> Bool
    static func isZero(_ vector: Self) -> Bool
    /// Bit i set when lane i is 65536 or more.
    static func largeLanes(_ vector: Self) -> UInt32
}

extension SIMD8: LaneCompare where Scalar == UInt64 {
    @inline(__always)
    static func largeLanes(_ vector: Self) -> UInt32 {
        UInt32(truncatingIfNeeded: Self().replacing(with: Self(1, 2, 4, 8, 16, 32, 64, 128), where: vector .> Self(repeating: 0xffff)).wrappedSum())
    }

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

    @inline(__always)
    static func allSmall(_ vector: Self) -> Bool { !any(vector .> Self(repeating: 0xffff)) }

    @inline(__always)
    static func isZero(_ vector: Self) -> Bool { !any(vector .!= Self()) }
}

extension SIMD16: LaneCompare where Scalar == UInt32 {
    @inline(__always)
    static func largeLanes(_ vector: Self) -> UInt32 {
        Self().replacing(with: Self(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768),
                         where: vector .> Self(repeating: 0xffff)).wrappedSum()
    }

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

    @inline(__always)
    static func allSmall(_ vector: Self) -> Bool { !any(vector .> Self(repeating: 0xffff)) }

    @inline(__always)
    static func isZero(_ vector: Self) -> Bool { !any(vector .!= Self()) }
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

    static func allSmall(_ vector: Self) -> Bool { true }

    static func largeLanes(_ vector: Self) -> UInt32 { 0 }

    @inline(__always)
    static func isZero(_ vector: Self) -> Bool { !any(vector .!= Self()) }
}
