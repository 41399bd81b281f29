import ELFCore

/// One pool as its header describes it, checked for the header's own consistency: size class,
/// carved blocks (`nextoffset`), the size class's `maxnextoffset`, a count no larger than what
/// was carved (the free list is checked when walked, so a damaged one is reported, not hidden). Such a header at a pool-aligned address is
/// how pools are recognised without obmalloc's `arenas` array.
public struct PymallocPool: Sendable, Equatable {
    public let address: UInt64
    public let sizeClass: Int
    /// `arenaindex`: the arena's slot in obmalloc's `arenas` array; all pools of an arena share it.
    public let arenaIndex: UInt32
    /// `ref.count`: blocks in use as the header counts them.
    public let headerCount: Int
    /// Blocks handed out at least once (below `nextoffset`); blocks past them were never used.
    public let carved: Int
    /// Head of the free list (`freeblock`), 0 when empty.
    public let freeBlock: UInt64
    /// Blocks in use as the free list leaves them: carved, less the blocks listed free.
    public internal(set) var used: Int

    /// What a pool-aligned place holds: a pool, nothing (zeros: never carved), or a header
    /// that fails a check (which one, for places between an arena's pools).
    enum Header {
        case pool(PymallocPool)
        case zero
        case invalid(String)
    }

    /// The header at `bytes` (at least `layout.poolOverhead` bytes read at `address`).
    static func decode(_ bytes: UnsafeRawBufferPointer, at address: UInt64, layout: PymallocLayout) -> Header {
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        let count = u32(PymallocLayout.countOffset)
        let freeBlock = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: PymallocLayout.freeblockOffset, as: UInt64.self))
        let sizeClass = u32(PymallocLayout.sizeClassOffset)
        let nextOffset = UInt64(u32(PymallocLayout.nextOffsetOffset))
        let maxNextOffset = UInt64(u32(PymallocLayout.maxNextOffsetOffset))
        if count == 0 && freeBlock == 0 && sizeClass == 0 && nextOffset == 0 && maxNextOffset == 0 {
            return .zero
        }
        guard Int(sizeClass) < layout.sizeClassCount else {
            return .invalid("size class \(sizeClass)")
        }
        let size = layout.blockSize(ofClass: Int(sizeClass))
        let capacity = UInt64(layout.capacity(ofClass: Int(sizeClass)))
        guard maxNextOffset == layout.poolSize - size else {
            return .invalid("maxnextoffset \(maxNextOffset) for \(size)-byte blocks")
        }
        // init_pool hands out the first block and makes the second the free list's head.
        guard nextOffset >= layout.poolOverhead, (nextOffset - layout.poolOverhead) % size == 0,
              (nextOffset - layout.poolOverhead) / size >= 2, (nextOffset - layout.poolOverhead) / size <= capacity else {
            return .invalid("nextoffset \(nextOffset) for \(size)-byte blocks")
        }
        let carved = (nextOffset - layout.poolOverhead) / size
        guard UInt64(count) <= carved else {
            return .invalid("count \(count) of \(carved) carved blocks")
        }
        return .pool(PymallocPool(address: address, sizeClass: Int(sizeClass), arenaIndex: u32(PymallocLayout.arenaIndexOffset),
                                     headerCount: Int(count), carved: Int(carved), freeBlock: freeBlock, used: Int(count)))
    }

    /// Marks in `free` (one bit per carved block, cleared by the caller) the blocks on the free
    /// list, walking `pool` (the pool's bytes). Each step marks a new block, so the walk ends
    /// after at most `carved` steps; a link off the pool's carved blocks or back to a marked
    /// block stops it, and the returned text says where.
    func markFreeBlocks(in pool: UnsafeRawBufferPointer, layout: PymallocLayout, free: UnsafeMutablePointer<UInt64>) -> (count: Int, damage: String?) {
        let size = layout.blockSize(ofClass: sizeClass)
        let carvedEnd = layout.poolOverhead + UInt64(carved) * size
        var link = freeBlock
        var count = 0
        while link != 0 {
            let (offset, below) = link.subtractingReportingOverflow(address)
            guard !below, offset >= layout.poolOverhead, offset < carvedEnd, (offset - layout.poolOverhead) % size == 0 else {
                return (count, "free-list link \(count + 1) (\(hex(link))) is not a carved block of the pool; the list is cut there")
            }
            let block = Int((offset - layout.poolOverhead) / size)
            let word = block >> 6
            let bit: UInt64 = 1 << UInt64(block & 63)
            if free[word] & bit != 0 {
                return (count, "free list comes back to block \(hex(link)) after \(count) blocks (a cycle); the list is cut there")
            }
            free[word] |= bit
            count += 1
            link = UInt64(littleEndian: pool.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self))
        }
        return (count, nil)
    }
}
