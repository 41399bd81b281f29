import Allocators
import ELFCore
import Foundation
import Testing
import TestFixtures

/// One-word damage to the hand-built jemalloc heap's extent map: each costs at most the part it
/// touches, with a bounded report, and the intact extents keep the undamaged heap's counts.
struct JemallocDamageTests {
    typealias Built = JemallocSyntheticHeapTests
    static let rootSlot = Int((Built.heap >> 30) & 0x3ffff)

    struct Counts: Equatable {
        var extents: Int
        var allocations: Int
        var used: Int
    }

    func read(_ damage: (inout Built.MapBytes) -> Void = { _ in }) throws -> (heap: JemallocHeap, counts: Counts) {
        let path = try Built().build(damage: damage)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let heap = try #require(try JemallocHeap.read(core: try CoreFile(path: path)))
        let table = heap.allocationTable()
        return (heap, Counts(extents: heap.extents.count, allocations: table.allocations.count,
                             used: table.allocations.filter(\.isUsed).count))
    }

    static func put(_ value: UInt64, _ bytes: inout [UInt8], _ offset: Int) {
        bytes.replaceSubrange(offset..<(offset + 8), with: le(value))
    }

    @Test func everyRootSlotNamingTheLeafIsWalkedOnce() throws {
        let intact = try read().counts
        let damaged = try read { map in
            for slot in 0..<(1 << 18) { Self.put(Built.leaf, &map.root, slot * 8) }
        }
        #expect(damaged.counts == intact)
        #expect(damaged.heap.consistency.leaves == 1)
        #expect(damaged.heap.warnings.count < 10, "\(damaged.heap.warnings)")
        #expect(damaged.heap.warnings.contains { $0.contains("named by 262144 root slots") }, "\(damaged.heap.warnings)")
    }

    @Test func duplicatedRootSlotKeepsTheHeap() throws {
        let intact = try read().counts
        let damaged = try read { map in Self.put(Built.leaf, &map.root, (Self.rootSlot + 1) * 8) }
        #expect(damaged.counts == intact)
        #expect(damaged.heap.consistency.disagreeingEntries == 0)
    }

    @Test func clearedRootSlotIsReplacedByTheVotedLeaf() throws {
        let intact = try read().counts
        let damaged = try read { map in Self.put(0, &map.root, Self.rootSlot * 8) }
        #expect(damaged.counts == intact)
        #expect(damaged.heap.warnings.count < 5, "\(damaged.heap.warnings)")
    }

    @Test func rootSlotPointingNowhereIsReplacedByTheVotedLeaf() throws {
        let intact = try read().counts
        let damaged = try read { map in Self.put(0x7e00_0000_0000, &map.root, Self.rootSlot * 8) }
        #expect(damaged.counts == intact)
        #expect(damaged.heap.warnings.contains { $0.contains("root slot \(Self.rootSlot)") }, "\(damaged.heap.warnings)")
    }

    /// A free extent whose size grew to cover every real extent loses itself, not them.
    @Test func bogusFreeExtentDoesNotSwallowTheRealOnes() throws {
        let intact = try read().counts
        let damaged = try read { map in
            // The dirty extent's header (edata 4) claims 16 GiB from just below the heap.
            let dirtyEdata = 4 * 128
            Self.put(Built.heap - 0x1000, &map.edata, dirtyEdata + 8)
            Self.put(16 << 30, &map.edata, dirtyEdata + 16)
        }
        #expect(damaged.counts.allocations == intact.allocations)
        #expect(damaged.counts.used == intact.used)
        #expect(damaged.counts.extents == intact.extents - 1)
    }

    @Test func oneDamagedLeafEntryCostsItsExtentOnly() throws {
        let intact = try read().counts
        let damaged = try read { map in
            // The large extent's first-page entry names another header.
            let page = Int(((Built.heap + 0x10000) >> 12) & 0x3ffff)
            Self.put(36 << 48 | (Built.edatas + 128) | 2, &map.leaf, page * 8)
        }
        #expect(damaged.heap.warnings.count < 12, "\(damaged.heap.warnings)")
        #expect(damaged.heap.consistency.disagreeingEntries == 1)
        // The large extent is still named by its last page's entry; every slab region stays.
        #expect(damaged.counts == intact)
    }

    /// Found by the fuzzer: a writable segment in the last 2 MiB of the address space (a
    /// damaged p_vaddr) made the metadata-block search round its start up past 2^64 to 0 and
    /// try every 2 MiB boundary below it. The segment is now passed over and the heap stays whole.
    @Test func segmentAtTheTopOfTheAddressSpaceCostsNothing() throws {
        let intact = try read().counts
        var synthetic = Built().core()
        synthetic.segments.append(.init(address: 0xffff_ffff_ffff_c000, contents: [UInt8](repeating: 0, count: 0x1000)))
        let path = try synthetic.write(name: "jemalloc-top-segment")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let heap = try #require(try JemallocHeap.read(core: CoreFile(path: path)))
        let table = heap.allocationTable()
        #expect(Counts(extents: heap.extents.count, allocations: table.allocations.count,
                       used: table.allocations.filter(\.isUsed).count) == intact)
        #expect(heap.warnings.count < 10, "\(heap.warnings)")
    }
}
