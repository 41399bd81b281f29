import Allocators
import Testing

/// The table entry is 16 bytes on heaps of tens of millions of allocations; its packed fields
/// must still give back exactly what a walker put in, at every field's limits.
struct AllocationPackingTests {
    @Test func anAllocationTakesSixteenBytes() {
        #expect(MemoryLayout<Allocation>.stride == 16)
    }

    @Test func fieldsRoundTripAtTheirLimits() {
        let cases: [(usable: UInt64, block: UInt64, used: Bool, arena: Int32)] = [
            (0, 0, false, -1),
            (24, 32, true, 0),
            (Allocation.maximumUsableSize, Allocation.maximumUsableSize, true, Allocation.maximumArena),
            (Allocation.maximumUsableSize - 16, Allocation.maximumUsableSize, false, 4096),
            (1, 1 + Allocation.maximumHeader, true, 7),
        ]
        for item in cases {
            let allocation = Allocation(address: 0xffff_ffff_ffff_fff0, usableSize: item.usable, blockSize: item.block,
                                        isUsed: item.used, arena: item.arena)
            #expect(allocation.address == 0xffff_ffff_ffff_fff0)
            #expect(allocation.usableSize == item.usable)
            #expect(allocation.blockSize == item.block)
            #expect(allocation.isUsed == item.used)
            #expect(allocation.arena == item.arena)
        }
    }

    @Test func settersChangeOnlyTheirField() {
        var allocation = Allocation(address: 0x1000, usableSize: 1 << 39, blockSize: (1 << 39) + 8, isUsed: true, arena: 3)
        allocation.isUsed = false
        allocation.arena = -1
        allocation.blockSize = (1 << 39) + 16
        #expect(allocation == Allocation(address: 0x1000, usableSize: 1 << 39, blockSize: (1 << 39) + 16, isUsed: false, arena: -1))
        allocation.arena = Allocation.maximumArena
        allocation.isUsed = true
        #expect(allocation.usableSize == 1 << 39 && allocation.blockSize == (1 << 39) + 16)
        #expect(allocation.isUsed && allocation.arena == Allocation.maximumArena)
    }

    @Test func valuesBeyondTheFieldsAreNotRepresentable() {
        let size = Allocation.maximumUsableSize
        #expect(!Allocation.isRepresentable(usableSize: size + 1, blockSize: size + 1, arena: 0))
        #expect(!Allocation.isRepresentable(usableSize: 8, blockSize: 9 + Allocation.maximumHeader, arena: 0))
        #expect(!Allocation.isRepresentable(usableSize: 16, blockSize: 8, arena: 0))
        #expect(!Allocation.isRepresentable(usableSize: 8, blockSize: 16, arena: Allocation.maximumArena + 1))
        #expect(!Allocation.isRepresentable(usableSize: 8, blockSize: 16, arena: -2))
        #expect(Allocation.isRepresentable(usableSize: size, blockSize: size, arena: -1))
    }
}
