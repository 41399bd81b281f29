import ELFCore
import Foundation
import TestFixtures

/// A hand-built CPython 3.11 pymalloc heap in a synthetic core: two arenas of 16 KiB pools with
/// every pool state (partly used with holes, full, emptied, never carved), so counts are known
/// exactly without an interpreter, and damage can be placed anywhere.
struct SyntheticPymallocHeap {
    static let poolSize: UInt64 = 16 << 10
    /// The first arena's mapping starts one page in, as mmap places arenas: its first pool is
    /// the next 16 KiB boundary, and it has 63 pools.
    static let arenaMapping: UInt64 = 0x7f00_0000_1000
    static let firstPool: UInt64 = 0x7f00_0000_4000
    static let secondArena: UInt64 = 0x7f00_0020_0000

    struct Pool {
        var address: UInt64
        var sizeClass: UInt32
        var arenaIndex: UInt32
        var carved: Int
        /// Free blocks in list order (block numbers below `carved`).
        var freeList: [Int]
        /// Links written over the free list's own (damage): block number and the value.
        var overwrittenLinks: [(block: Int, value: UInt64)] = []
        var blockSize: UInt64 { UInt64(sizeClass + 1) * 16 }
        var used: Int { carved - freeList.count }
    }

    var pools: [Pool] = [
        Pool(address: firstPool, sizeClass: 1, arenaIndex: 0, carved: 10, freeList: [3, 7]),
        Pool(address: firstPool + poolSize, sizeClass: 31, arenaIndex: 0, carved: 31, freeList: []),
        // Emptied: every carved block back on the list, count 0.
        Pool(address: firstPool + 2 * poolSize, sizeClass: 0, arenaIndex: 0, carved: 4, freeList: [2, 0, 1, 3]),
        Pool(address: firstPool + 3 * poolSize, sizeClass: 4, arenaIndex: 0, carved: 5, freeList: [4, 0, 2]),
        Pool(address: secondArena, sizeClass: 2, arenaIndex: 1, carved: 3, freeList: []),
    ]

    var usedBlocks: Int { pools.reduce(0) { $0 + $1.used } }

    /// The pool's header and free-list links, written into `bytes` (the pool's 16 KiB).
    static func write(_ pool: Pool, into bytes: inout [UInt8], at start: Int) {
        func put<T: FixedWidthInteger>(_ value: T, _ offset: Int) {
            bytes.replaceSubrange((start + offset)..<(start + offset + MemoryLayout<T>.size), with: le(value))
        }
        func blockAddress(_ block: Int) -> UInt64 { pool.address + 48 + UInt64(block) * pool.blockSize }
        put(UInt32(pool.used), 0)
        put(pool.freeList.first.map(blockAddress) ?? 0, 8)
        put(UInt32(pool.arenaIndex), 32)
        put(pool.sizeClass, 36)
        put(UInt32(48 + UInt64(pool.carved) * pool.blockSize), 40)
        put(UInt32(poolSize - pool.blockSize), 44)
        for (position, block) in pool.freeList.enumerated() {
            let next = position + 1 < pool.freeList.count ? blockAddress(pool.freeList[position + 1]) : 0
            put(next, 48 + block * Int(pool.blockSize))
        }
        // Used blocks hold something that is neither zero nor a link.
        for block in 0..<pool.carved where !pool.freeList.contains(block) {
            put(UInt64(0xabcd_0000) + UInt64(block), 48 + block * Int(pool.blockSize))
        }
        for link in pool.overwrittenLinks { put(link.value, 48 + link.block * Int(pool.blockSize)) }
    }

    /// The core: the interpreter named in NT_FILE, the first arena's first four pools and the
    /// second arena's first pool present (the rest of each arena not in the core).
    func core() -> SyntheticCore {
        var core = SyntheticCore()
        core.command = "python3.11"
        core.fileMappings = [(0x40_0000, 0x40_1000, 0, "/usr/bin/python3.11")]
        core.segments.append(.init(address: 0x40_0000, contents: [UInt8](repeating: 0x90, count: 0x1000), flags: 5))
        var first = [UInt8](repeating: 0, count: Int(Self.firstPool - Self.arenaMapping + 4 * Self.poolSize))
        var second = [UInt8](repeating: 0, count: Int(Self.poolSize))
        for pool in pools {
            if pool.address >= Self.secondArena {
                Self.write(pool, into: &second, at: Int(pool.address - Self.secondArena))
            } else {
                Self.write(pool, into: &first, at: Int(pool.address - Self.arenaMapping))
            }
        }
        core.segments.append(.init(address: Self.arenaMapping, contents: first, memorySize: 1 << 20))
        core.segments.append(.init(address: Self.secondArena, contents: second, memorySize: 1 << 20))
        core.threads = [.init(tid: 4242, stackPointer: 0x7ffd_0000_0800)]
        core.segments.append(.init(address: 0x7ffd_0000_0000, contents: [UInt8](repeating: 0, count: 0x1000)))
        return core
    }

    func write(name: String = "pymalloc-synthetic") throws -> String { try core().write(name: name) }
}

/// Where the `width` bytes at `address` are in the core file, when the core holds them all.
func fileOffset(of address: UInt64, width: Int, in core: CoreFile) -> Int? {
    guard let segment = core.addressSpace.segment(containing: address), address + UInt64(width) <= segment.presentEnd else { return nil }
    return Int(segment.fileOffset + (address - segment.start))
}
