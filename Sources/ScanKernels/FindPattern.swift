/// Needles compiled into kernels: one aligned kernel per integer width, one byte-string kernel
/// for everything matched at every offset.
public struct FindPattern: Sendable {
    public enum PatternError: Error, CustomStringConvertible, Equatable {
        case noNeedles
        case tooMany(Int)

        public var description: String {
            switch self {
            case .noNeedles: return "nothing to find: give a VALUE or --string TEXT"
            case .tooMany(let count): return "\(count) needles; find takes at most \(FindPattern.maxNeedles)"
            }
        }
    }

    public static let maxNeedles = 16

    public let needles: [Needle]
    let alignedKernels: [AlignedFindKernel]
    let byteKernel: ByteFindKernel?
    /// The longest needle: how far a match can reach past where it starts.
    public let maxLength: Int

    public init(_ needles: [Needle]) throws {
        guard !needles.isEmpty else { throw PatternError.noNeedles }
        guard needles.count <= Self.maxNeedles else { throw PatternError.tooMany(needles.count) }
        self.needles = needles
        var aligned: [AlignedFindKernel] = []
        for width in [8, 4, 2] {
            let group = needles.indices.filter { needles[$0].alignment == width && needles[$0].bytes.count == width }
            guard !group.isEmpty else { continue }
            let values = group.map { index in
                needles[index].bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
            aligned.append(AlignedFindKernel(width: width, values: values, ids: group))
        }
        alignedKernels = aligned
        let byteGroup = needles.indices.filter { needles[$0].alignment == 1 || needles[$0].bytes.count != needles[$0].alignment }
        byteKernel = byteGroup.isEmpty ? nil : ByteFindKernel(needles: byteGroup.map { (needles[$0].bytes, $0) })
        maxLength = needles.map(\.bytes.count).max() ?? 1
    }

    /// Every match that starts in `[address, address + startLimit)` and ends within `available`
    /// bytes of `start`.
    func scan(_ start: UnsafeRawPointer, available: Int, startLimit: Int, address: UInt64, into sink: inout HitSink) {
        for kernel in alignedKernels {
            let width = kernel.width
            let skip = Int((UInt64(width) &- address % UInt64(width)) % UInt64(width))
            guard skip < startLimit, skip + width <= available else { continue }
            let byStart = (startLimit - skip + width - 1) / width
            let byEnd = (available - skip) / width
            kernel.scan(start + skip, wordCount: min(byStart, byEnd), address: address &+ UInt64(skip), into: &sink)
        }
        byteKernel?.scan(start, available: available, startLimit: startLimit, address: address, into: &sink)
    }

    /// Whether needle `index` matches `bytes` at `offset` and its alignment allows `address`.
    func matches(_ index: Int, in bytes: UnsafeRawBufferPointer, at offset: Int, address: UInt64) -> Bool {
        let needle = needles[index]
        guard address % UInt64(needle.alignment) == 0, offset + needle.bytes.count <= bytes.count else { return false }
        return ByteFindKernel.matches(bytes.baseAddress! + offset, needle.bytes)
    }
}
