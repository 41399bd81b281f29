import Allocators
import ELFCore
import Foundation
import Regions
import Testing
import TestFixtures

/// The walker on the hand-built heap: every pool state counted exactly, no interpreter needed.
struct PymallocSyntheticTests {
    typealias Built = SyntheticPymallocHeap

    func heap(_ built: Built = Built()) throws -> (heap: PymallocHeap, table: AllocationTable) {
        let path = try built.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let core = try CoreFile(path: path)
        let heap = try #require(PymallocHeap.read(core: core, regions: RegionMap(core: core)))
        return (heap, heap.allocationTable())
    }

    @Test func everyPoolStateIsCountedExactly() throws {
        let built = Built()
        let (heap, table) = try heap(built)
        #expect(heap.warnings.isEmpty, "\(heap.warnings)")
        #expect(heap.usedBlocks == built.usedBlocks)
        #expect(heap.usedBlocks == 44)
        #expect(heap.pools.map(\.address) == built.pools.filter { $0.used > 0 }.map(\.address))
        #expect(heap.arenas.map(\.index) == [0, 1])
        #expect(heap.arenas.map(\.usedPools) == [3, 1])
        #expect(heap.arenas.map(\.emptyPools) == [1, 0])
        // An arena whose mapping is not pool-aligned holds 63 pools from its first.
        #expect(heap.arenas[0].range == Built.firstPool..<(Built.firstPool + 63 * Built.poolSize))
        let byClass = Dictionary(uniqueKeysWithValues: heap.sizeClasses.filter { $0.pools > 0 }.map { ($0.index, $0) })
        #expect(byClass[1]?.usedBlocks == 8 && byClass[1]?.availableBlocks == 510 - 8)
        #expect(byClass[31]?.usedBlocks == 31 && byClass[31]?.availableBlocks == 0)
        #expect(byClass[4]?.usedBlocks == 2 && byClass[4]?.availableBlocks == 204 - 2)
        #expect(byClass[2]?.usedBlocks == 3)
        #expect(byClass[0] == nil)
        // Carved blocks of used pools, free ones marked free; the emptied pool is not listed.
        #expect(table.allocations.count == 10 + 31 + 5 + 3)
        #expect(table.allocations.filter(\.isUsed).count == 44)
        let firstPoolFree = table.allocations.filter { !$0.isUsed && $0.address < Built.firstPool + Built.poolSize }.map(\.address)
        #expect(firstPoolFree == [3, 7].map { Built.firstPool + 48 + UInt64($0) * 32 })
        #expect(table.managedRanges.count == 2)
        #expect(heap.block(containing: Built.firstPool + 48 + 3 * 32 + 5)?.used == false)
        #expect(heap.block(containing: Built.firstPool + 48 + 4 * 32)?.used == true)
        #expect(heap.block(containing: Built.firstPool + 20) == nil)
    }

    @Test func freeListCycleIsCutWhereItCloses() throws {
        var built = Built()
        let pool = built.pools[3]
        built.pools[3].overwrittenLinks = [(2, pool.address + 48 + 4 * pool.blockSize)]   // 4 → 0 → 2 → 4
        let (heap, _) = try heap(built)
        #expect(heap.usedBlocks == 44)
        #expect(heap.warnings == ["pymalloc pool \(hex(pool.address)) (80-byte blocks): free list comes back to block \(hex(pool.address + 48 + 4 * 80)) after 3 blocks (a cycle); the list is cut there"])
    }

    @Test func zeroedPoolBetweenCarvedOnesIsReported() throws {
        var built = Built()
        let lost = built.pools.remove(at: 1)   // its 16 KiB left as zeros
        let (heap, _) = try heap(built)
        #expect(heap.usedBlocks == 44 - lost.used)
        #expect(heap.warnings == ["pymalloc pool \(hex(lost.address)) in arena #0 has a zeroed header between carved pools; its blocks are not counted"])
    }

    @Test func interpreterWithoutPoolsSaysSo() throws {
        var built = Built()
        built.pools = []
        let (heap, table) = try heap(built)
        #expect(heap.usedBlocks == 0 && heap.arenas.isEmpty && table.allocations.isEmpty)
        #expect(heap.warnings == ["no pymalloc pool found: the interpreter ran with PYTHONMALLOC=malloc (or another allocator), or its arenas are not in the core"])
    }

    @Test func countDisagreeingWithTheFreeListIsReported() throws {
        var built = Built()
        let pool = built.pools[0]
        built.pools[0].overwrittenLinks = [(3, 0)]   // the list ends after its first block: 9 used, not 8
        let (heap, _) = try heap(built)
        #expect(heap.usedBlocks == 45)
        #expect(heap.warnings == ["pymalloc pool \(hex(pool.address)): its header counts 8 blocks in use, its free list leaves 9"])
    }
}

/// The mutation fuzzer over the hand-built pymalloc heap: pool header fields and free-list
/// links are edited; the walker, its report and its table must neither trap nor hang nor flood.
struct PymallocFuzzTests {
    typealias Built = SyntheticPymallocHeap

    static func seed() throws -> MutationFuzzer.Seed {
        let built = Built()
        let bytes = built.core().build()
        let path = try SyntheticCore.writeTemporary(bytes, name: "pymalloc-fuzz-seed")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let core = try CoreFile(path: path)
        let offset = { (address: UInt64) in fileOffset(of: address, width: 8, in: core) }
        var sites: [MutationFuzzer.Site] = []
        let blocks = built.pools.flatMap { pool in (0..<pool.carved).map { pool.address + 48 + UInt64($0) * pool.blockSize } }
        for pool in built.pools + [Built.Pool(address: Built.firstPool + 4 * Built.poolSize, sizeClass: 0, arenaIndex: 0, carved: 0, freeList: [])] {
            let links = [0, pool.address, pool.address + 48, pool.address + Built.poolSize, 0x10, UInt64.max] + blocks.prefix(8)
            if let at = offset(pool.address) { sites.append(.init(offset: at, width: 4, candidates: [0, 1, 31, 1021, 0xffff_ffff])) }
            if let at = offset(pool.address + 8) { sites.append(.init(offset: at, candidates: links)) }
            if let at = offset(pool.address + 32) { sites.append(.init(offset: at, width: 4, candidates: [0, 1, 2, 0xffff_ffff])) }
            if let at = offset(pool.address + 36) { sites.append(.init(offset: at, width: 4, candidates: [0, 1, 4, 31, 32, 77, 0xffff_ffff])) }
            if let at = offset(pool.address + 40) { sites.append(.init(offset: at, width: 4, candidates: [0, 48, 80, 112, 16336, 16384, 0xffff_ffff])) }
            if let at = offset(pool.address + 44) { sites.append(.init(offset: at, width: 4, candidates: [16368, 16352, 15872, 0])) }
            for block in (0..<pool.carved).map({ pool.address + 48 + UInt64($0) * pool.blockSize }) {
                if let at = offset(block) { sites.append(.init(offset: at, candidates: links + [block])) }
            }
        }
        return MutationFuzzer.Seed(bytes: bytes, sites: sites)
    }

    @Test func pymallocWalkerSurvivesMutations() throws {
        var fuzzer = MutationFuzzer(name: "pymalloc", seeds: [try Self.seed()], randomSeed: 16)
        let stats = try fuzzer.run(.fromEnvironment(defaultSeconds: 5)) { path in
            let core = try CoreFile(path: path)
            let regions = RegionMap(core: core)
            guard let heap = PymallocHeap.read(core: core, regions: regions) else { return "none" }
            let report = PymallocReport(heap: heap, outer: nil, address: Built.firstPool + 100)
            _ = try JSONEncoder().encode(report)
            let table = ProcessAllocator.allocationTable(core: core, regions: regions)
            let disjoint = zip(table.allocations, table.allocations.dropFirst()).allSatisfy { $0.end <= $1.address }
            if !disjoint || report.warnings.count > 40 {
                let kept = path + ".pymalloc-invariant.core"
                try? FileManager.default.copyItem(atPath: path, toPath: kept)
                Issue.record("overlapping allocations or \(report.warnings.count) warnings for the input kept at \(kept)")
            }
            return Set(heap.warnings.map(WarningDigest.kind)).sorted().joined(separator: "|") + "\(heap.pools.count),\(heap.usedBlocks)"
        }
        print(stats)
        #expect(stats.executions > 0)
    }
}

/// A sub-allocator's table inside a malloc's: the malloc block an arena was carved from gives
/// way to the arena's blocks, the rest of both stays, and the table stays disjoint.
struct NestedAllocatorTableTests {
    @Test func blockHoldingAnArenaIsReplacedByItsBlocks() {
        let outer = AllocationTable(allocator: "glibc 2.36", method: "main_arena symbol", arenas: ["main_arena 0x1000"], allocations: [
            Allocation(address: 0x10010, usableSize: 0x18, blockSize: 0x20, isUsed: true, arena: 0),
            Allocation(address: 0x10030, usableSize: 0x40008, blockSize: 0x40010, isUsed: true, arena: 0),
            Allocation(address: 0x50040, usableSize: 0x18, blockSize: 0x20, isUsed: false, arena: 0),
        ], warnings: [], managedRanges: [0x10000..<0x60000])
        let inner = AllocationTable(allocator: "pymalloc (CPython 3.11)", method: "pool headers", arenas: ["pymalloc arena #0 0x14000"], allocations: [
            Allocation(address: 0x14030, usableSize: 32, blockSize: 32, isUsed: true, arena: 0),
            Allocation(address: 0x14050, usableSize: 32, blockSize: 32, isUsed: false, arena: 0),
        ], warnings: [], managedRanges: [0x14000..<0x50000])
        let nested = outer.holding(inner)
        #expect(nested.allocations.map(\.address) == [0x10010, 0x14030, 0x14050, 0x50040])
        #expect(nested.allocations.map(\.arena) == [0, 1, 1, 0])
        #expect(nested.arenas == ["main_arena 0x1000", "pymalloc arena #0 0x14000"])
        #expect(nested.warnings == ["1 glibc 2.36 blocks hold pymalloc (CPython 3.11) arenas; their pymalloc (CPython 3.11) blocks are listed instead"])
        // The arena is inside the brk heap's range already.
        #expect(nested.managedRanges == [0x10000..<0x60000])
        #expect(nested.allocator == "glibc 2.36 and pymalloc (CPython 3.11)")
    }

    @Test func arenasOfTheirOwnKeepEveryMallocBlock() {
        let outer = AllocationTable(allocator: "glibc 2.36", method: "m", arenas: ["main_arena 0x1000"], allocations: [
            Allocation(address: 0x10010, usableSize: 0x18, blockSize: 0x20, isUsed: true, arena: 0),
            // An mmapped chunk ending where an arena's mapping starts: its block reaches past its usable bytes.
            Allocation(address: 0x7000_0010, usableSize: 0x1ff0, blockSize: 0x2000, isUsed: true, arena: 0),
        ], warnings: [], managedRanges: [0x10000..<0x60000, 0x7000_0000..<0x7000_2000])
        let inner = AllocationTable(allocator: "pymalloc (CPython 3.11)", method: "p", arenas: ["pymalloc arena #0 0x70002000"], allocations: [
            Allocation(address: 0x7000_2030, usableSize: 16, blockSize: 16, isUsed: true, arena: 0),
        ], warnings: [], managedRanges: [0x7000_2000..<0x7010_0000])
        let nested = outer.holding(inner)
        #expect(nested.allocations.count == 3)
        #expect(nested.warnings.isEmpty)
        #expect(nested.managedRanges.count == 3)
    }
}
