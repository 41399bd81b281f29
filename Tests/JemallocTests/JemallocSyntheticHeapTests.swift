import Allocators
import ELFCore
import Foundation
import Testing
import TestFixtures

/// A jemalloc 5.3 heap built by hand: three slabs, a large allocation, a dirty extent and one
/// thread cache, laid out as the measured encodings say. Checks every decoding rule without
/// depending on the libjemalloc of the machine.
struct JemallocSyntheticHeapTests {
    static let module: UInt64 = 0x7f10_0000_0000
    static let root: UInt64 = 0x7f10_0010_0000
    static let leaf: UInt64 = 0x7f20_0000_0000
    static let edatas: UInt64 = 0x7f30_0000_0000
    static let heap: UInt64 = 0x7f40_0000_0000
    static let tls: UInt64 = 0x7f50_0000_0000
    static let stacks: UInt64 = 0x7f60_0000_0000
    static let fsBase = tls + 0x10000

    /// Free regions of each 32-byte slab (bit set = free).
    static let slabFree: [[UInt64]] = [[0xffff_0000_0000_0000, 0], [0, 0xffff_ffff_0000_0000], [0xf, 0xf]]
    static let cached: [UInt64] = [heap + 5 * 32, heap + 6 * 32]

    /// The parts of the extent map a test may damage before the core is written.
    struct MapBytes {
        var root: [UInt8]
        var leaf: [UInt8]
        var edata: [UInt8]
    }

    func build(damage: (inout MapBytes) -> Void = { _ in }) throws -> String {
        try core(damage: damage).write(name: "jemalloc-synthetic")
    }

    func core(damage: (inout MapBytes) -> Void = { _ in }) -> SyntheticCore {
        var module = Array("\0jemalloc\0".utf8) + Array("5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c\0".utf8)
        module += [UInt8](repeating: 0, count: 4096 - module.count)
        var rootBytes = [UInt8](repeating: 0, count: 2 << 20)
        var leafBytes = [UInt8](repeating: 0, count: 2 << 20)
        var edataBytes = [UInt8](repeating: 0, count: 4096)
        func put(_ value: UInt64, _ bytes: inout [UInt8], _ offset: Int) {
            bytes.replaceSubrange(offset..<(offset + 8), with: le(value))
        }
        func entry(_ page: UInt64, _ value: UInt64) { put(value, &leafBytes, Int((page >> 12) & 0x3ffff) * 8) }
        put(Self.leaf, &rootBytes, Int((Self.heap >> 30) & 0x3ffff) * 8)

        for (index, free) in Self.slabFree.enumerated() {
            let edata = Self.edatas + UInt64(index) * 128
            let address = Self.heap + UInt64(index) * 4096
            let nfree = UInt64(free.reduce(0) { $0 + $1.nonzeroBitCount })
            put(1 << 12 | 1 << 13 | 2 << 20 | nfree << 28, &edataBytes, index * 128)
            put(address, &edataBytes, index * 128 + 8)
            put(4096, &edataBytes, index * 128 + 16)
            put(free[0], &edataBytes, index * 128 + 64)
            put(free[1], &edataBytes, index * 128 + 72)
            // A stale third bitmap word from an earlier, larger slab: must be ignored.
            put(0xdead, &edataBytes, index * 128 + 80)
            entry(address, 2 << 48 | edata | 1)
        }
        // Large: class 36 (16 KiB) plus a page of padding, user pointer one cache line in; the
        // last page's entry keeps "no class" (232).
        let large = Self.heap + 0x10000
        put(36 << 20 | 1 << 13, &edataBytes, 3 * 128)
        put(large + 64, &edataBytes, 3 * 128 + 8)
        put(20480, &edataBytes, 3 * 128 + 16)
        entry(large, 36 << 48 | (Self.edatas + 384) | 2)
        entry(large + 16384, 232 << 48 | (Self.edatas + 384))
        // Dirty: a freed 2-page slab whose map entries kept class 34 and the slab bit.
        let dirty = Self.heap + 0x20000
        put(1 << 12 | 1 << 17 | 232 << 20, &edataBytes, 4 * 128)
        put(dirty, &edataBytes, 4 * 128 + 8)
        put(8192, &edataBytes, 4 * 128 + 16)
        entry(dirty, 34 << 48 | (Self.edatas + 512) | 1 << 2 | 1)
        entry(dirty + 4096, 34 << 48 | (Self.edatas + 512) | 1 << 2 | 1)
        entry(Self.heap + 0x30000, 232 << 48)   // a cleared entry

        // Thread cache: 10 chained bins of 4 slots; bin 2 holds two regions of the first slab.
        var tlsBytes = [UInt8](repeating: 0, count: 0x10000)
        var stackBytes = [UInt8](repeating: 0, count: 4096)
        let run = 0x10000 - 0x6e8
        for bin in 0..<10 {
            let full = UInt16(8 + 32 * bin)
            let empty = full + 32
            let count = bin == 2 ? Self.cached.count : 0
            let head = Self.stacks + UInt64(empty) - UInt64(8 * count)
            put(head, &tlsBytes, run + bin * 24)
            let packed = UInt64(empty) | UInt64(full) << 16 | UInt64(empty) << 32
            put(packed, &tlsBytes, run + bin * 24 + 16)
            for (slot, pointer) in Self.cached.enumerated() where count > 0 {
                put(pointer, &stackBytes, Int(head - Self.stacks) + slot * 8)
            }
        }

        var map = MapBytes(root: rootBytes, leaf: leafBytes, edata: edataBytes)
        damage(&map)
        var core = SyntheticCore()
        core.segments = [
            .init(address: Self.module, contents: module, flags: 4),
            .init(address: Self.root, contents: map.root),
            .init(address: Self.leaf, contents: map.leaf),
            .init(address: Self.edatas, contents: map.edata),
            .init(address: Self.tls, contents: tlsBytes),
            .init(address: Self.stacks, contents: stackBytes),
        ]
        core.fileMappings = [(Self.module, Self.module + 4096, 0, "/nonexistent/libjemalloc.so.2")]
        core.threads = [.init(tid: 7, stackPointer: Self.tls + 0x100, fsBase: Self.fsBase)]
        return core
    }

    @Test func everyDecodingRuleOnAHandBuiltHeap() throws {
        let path = try build()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let core = try CoreFile(path: path)
        let heap = try #require(try JemallocHeap.read(core: core))
        #expect(heap.detection.version == "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c")
        #expect(heap.root == Self.root)
        let consistency = heap.consistency
        #expect(consistency.entries == 7 && consistency.disagreeingEntries == 0)
        #expect(consistency.extents == 5 && consistency.rejectedExtents == 0 && consistency.incompleteCoverage == 0)
        #expect(consistency.leaves == 1 && consistency.leavesNotInCore == 0)
        #expect(heap.warnings.isEmpty, "\(heap.warnings)")

        let report = heap.report(memory: core.addressSpace)
        let used = Self.slabFree.reduce(0) { $0 + 128 - $1.reduce(0) { $0 + $1.nonzeroBitCount } }
        let bin = try #require(report.bins.first)
        #expect(report.bins.count == 1)
        #expect(bin.bin == 2 && bin.size == 32 && bin.regionsInUse == used && bin.slabs == 3)
        #expect(bin.regionsPerSlab == 128 && bin.slabSize == 4096 && bin.cachedInThreads == 2)
        #expect(bin.utilisation == Double(used) / 384 && bin.bytes == UInt64(used) * 32)
        let large = try #require(report.large.first)
        #expect(report.large.count == 1)
        #expect(large.lextent == 0 && large.size == 16384 && large.count == 1 && large.cachedInThreads == 0)
        #expect(report.totals.allocated == UInt64(used) * 32 + 16384)
        #expect(report.totals.active == 3 * 4096 + 20480)
        #expect(report.totals.dirty == 8192 && report.totals.dirtyExtents == 1)
        #expect(report.threadCaches.count == 1)
        #expect(report.threadCaches.first?.thread == 7)
        let cacheBins = try #require(report.threadCaches.first?.bins)
        #expect(cacheBins.map(\.bin) == [2] && cacheBins.map(\.count) == [2] && cacheBins.map(\.capacity) == [4])

        let table = heap.allocationTable()
        #expect(table.allocations.count == 3 * 128 + 1)
        #expect(table.allocations.filter(\.isUsed).count == used - 2 + 1)
        let largeAllocation = try #require(table.allocation(containing: Self.heap + 0x10000 + 64 + 100))
        #expect(largeAllocation.address == Self.heap + 0x10000 + 64 && largeAllocation.usableSize == 16384)
        for pointer in Self.cached { #expect(table.allocation(containing: pointer)?.isUsed == false) }
        #expect(table.allocation(containing: Self.heap + 0)?.isUsed == true)
        #expect(table.allocation(containing: Self.heap + 50 * 32)?.isUsed == false)
        #expect(table.allocation(containing: Self.heap + 127 * 32)?.isUsed == true)
        #expect(table.managedRanges == [Self.heap..<(Self.heap + 3 * 4096), (Self.heap + 0x10000)..<(Self.heap + 0x15000),
                                        (Self.heap + 0x20000)..<(Self.heap + 0x22000)])
    }
}
