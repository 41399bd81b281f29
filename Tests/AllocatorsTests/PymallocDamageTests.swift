import Allocators
import ELFCore
import Foundation
import Testing
import TestFixtures

/// Damaged pymalloc metadata in a copy of the sample's core: a free-list cycle, a link out of
/// the pool, a bogus size class. Each costs only the pool it touches, with a bounded warning.
@Suite(.enabled(if: PymallocSample.available, "needs gcc, gdb and Debian's python3.11 (make test installs them)"))
struct PymallocDamageTests {
    /// A copy of `path` with `edits` (little-endian words at virtual addresses) written into it.
    func damaged(_ path: String, _ edits: [(address: UInt64, value: UInt64, width: Int)]) throws -> String {
        let core = try CoreFile(path: path)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("pymalloc-damage-\(UUID().uuidString).core").path
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let handle = try #require(FileHandle(forUpdatingAtPath: copy))
        defer { try? handle.close() }
        for edit in edits {
            try handle.seek(toOffset: UInt64(try #require(fileOffset(of: edit.address, width: edit.width, in: core))))
            let bytes = (0..<edit.width).map { UInt8(truncatingIfNeeded: edit.value >> (8 * UInt64($0))) }
            try handle.write(contentsOf: Data(bytes))
        }
        return copy
    }

    func word(_ path: String, _ address: UInt64) throws -> UInt64 {
        try #require(try CoreFile(path: path).addressSpace.readU64(address))
    }

    /// A used pool, not the first of its arena, with at least `free` blocks on its free list.
    func pool(_ heap: PymallocHeap, free: Int) throws -> PymallocPool {
        let candidates = zip(heap.pools, heap.pools.dropFirst()).filter { previous, pool in
            previous.arenaIndex == pool.arenaIndex && pool.carved - pool.used >= free && pool.freeBlock != 0
        }
        return try #require(candidates.first?.1)
    }

    @Test func freeListCycleCostsOnlyItsPool() throws {
        let sample = try PymallocSample.core()
        let intact = try PymallocSample.heap(sample)
        let target = try pool(intact, free: 3)
        let second = try word(sample.path, target.freeBlock)
        // The second free block links back to the first.
        let path = try damaged(sample.path, [(second, target.freeBlock, 8)])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let heap = try PymallocSample.heap(path: path)
        let freeBefore = target.carved - target.used
        #expect(heap.usedBlocks == intact.usedBlocks + freeBefore - 2)
        #expect(heap.pools.count == intact.pools.count)
        #expect(heap.warnings.count == 2, "\(heap.warnings)")
        #expect(heap.warnings.contains { $0.contains(hex(target.address)) && $0.contains("(a cycle)") }, "\(heap.warnings)")
        #expect(heap.warnings.contains { $0.contains("header counts \(target.headerCount) blocks in use") }, "\(heap.warnings)")
    }

    @Test func freeListLinkOutOfThePoolIsCut() throws {
        let sample = try PymallocSample.core()
        let intact = try PymallocSample.heap(sample)
        let target = try pool(intact, free: 2)
        let path = try damaged(sample.path, [(target.freeBlock, 0x10, 8)])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let heap = try PymallocSample.heap(path: path)
        #expect(heap.usedBlocks == intact.usedBlocks + (target.carved - target.used) - 1)
        #expect(heap.warnings.contains { $0.contains("free-list link 2 (0x10) is not a carved block") }, "\(heap.warnings)")
    }

    @Test func bogusSizeClassLosesOnlyThatPoolAndSaysSo() throws {
        let sample = try PymallocSample.core()
        let intact = try PymallocSample.heap(sample)
        let target = try pool(intact, free: 0)
        let path = try damaged(sample.path, [(target.address + 36, 77, 4)])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let heap = try PymallocSample.heap(path: path)
        #expect(heap.usedBlocks == intact.usedBlocks - target.used)
        #expect(heap.pools.count == intact.pools.count - 1)
        #expect(heap.arenas.count == intact.arenas.count)
        #expect(heap.warnings == ["pymalloc pool \(hex(target.address)) in arena #\(target.arenaIndex) has a damaged header (size class 77); its blocks are not counted"])
    }

    @Test func everyPoolDamagedGivesABoundedReport() throws {
        let sample = try PymallocSample.core()
        let intact = try PymallocSample.heap(sample)
        // Every free list made a one-block cycle, and every tenth header's size class bogus.
        var edits: [(address: UInt64, value: UInt64, width: Int)] = []
        for (index, pool) in intact.pools.enumerated() {
            if index % 10 == 5 { edits.append((pool.address + 36, 0xffff_ffff, 4)) }
            else if pool.freeBlock != 0 { edits.append((pool.freeBlock, pool.freeBlock, 8)) }
        }
        let path = try damaged(sample.path, edits)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let core = try CoreFile(path: path)
        let heap = try PymallocSample.heap(path: path)
        #expect(heap.pools.count == intact.pools.count - edits.filter { $0.width == 4 }.count)
        #expect(heap.warnings.count > 100)
        let report = PymallocReport(heap: heap, outer: nil)
        #expect(report.warnings.count <= 12, "\(report.warnings)")
        _ = core
    }
}
