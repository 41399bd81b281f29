/// The geometry of CPython's small-object allocator (Objects/obmalloc.c) on 64-bit Linux:
/// requests of up to 512 bytes are served from pools of one size class each, pools are carved
/// from arenas the interpreter maps itself. CPython 3.10 and later use 16 KiB pools in 1 MiB
/// arenas (USE_LARGE_POOLS, USE_LARGE_ARENAS with the radix-tree arena map); 3.8 and 3.9 use
/// 4 KiB pools in 256 KiB arenas. Size classes step by the 16-byte ALIGNMENT from 3.8 on.
public struct PymallocLayout: Sendable, Equatable {
    public let poolSize: UInt64
    public let arenaSize: UInt64
    /// Bytes between size classes (obmalloc's ALIGNMENT).
    public let alignment: UInt64 = 16
    /// Largest request pymalloc serves (SMALL_REQUEST_THRESHOLD); larger ones go to malloc.
    public let largestBlock: UInt64 = 512
    /// `struct pool_header` rounded up to the alignment (POOL_OVERHEAD): the first block's offset.
    public let poolOverhead: UInt64 = 48

    // struct pool_header { union { block *_padding; uint count; } ref; block *freeblock;
    //   struct pool_header *nextpool, *prevpool; uint arenaindex, szidx, nextoffset, maxnextoffset; }
    static let countOffset = 0
    static let freeblockOffset = 8
    static let arenaIndexOffset = 32
    static let sizeClassOffset = 36
    static let nextOffsetOffset = 40
    static let maxNextOffsetOffset = 44

    public static let largePools = PymallocLayout(poolSize: 16 << 10, arenaSize: 1 << 20)
    public static let smallPools = PymallocLayout(poolSize: 4 << 10, arenaSize: 256 << 10)

    public var sizeClassCount: Int { Int(largestBlock / alignment) }

    /// Block size of size class `index` (INDEX2SIZE).
    public func blockSize(ofClass index: Int) -> UInt64 { UInt64(index + 1) * alignment }

    /// Blocks a pool of size class `index` holds (NUMBLOCKS).
    public func capacity(ofClass index: Int) -> Int { Int((poolSize - poolOverhead) / blockSize(ofClass: index)) }

    /// The pool geometry of CPython `major.minor`, and whether it is one heapscan was checked on.
    public static func forVersion(major: Int, minor: Int) -> (layout: PymallocLayout, checked: Bool) {
        guard major == 3 else { return (largePools, false) }
        switch minor {
        case 8, 9: return (smallPools, false)
        case 10...13: return (largePools, minor == 11)
        default: return (largePools, false)
        }
    }
}
