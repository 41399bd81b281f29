import Allocators
import Foundation
import ELFCore
import Regions
import Testing
import TestFixtures

/// A hand-built glibc heap (main_arena in a libc data mapping, one brk heap) in a synthetic
/// core: first the intact heap, so the corrupt variants below are known to fail for the
/// corruption alone, then one broken field at a time. Each must give a warning, never a trap.
struct GlibcHeapCorruptionTests {
    typealias Heap = SyntheticGlibcHeap
    static let arena = Heap.arena
    static let heap = Heap.heap
    static let heapSize = Heap.heapSize
    static let chunks = Heap.chunks
    static let top = Heap.top

    static func mangled(_ pointer: UInt64, storedAt position: UInt64) -> UInt64 { (position >> 12) ^ pointer }

    @Test func intactHeapIsWalkedExactly() throws {
        let result = try Heap().walk()
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.table.method == "main_arena found by shape in libc data")
        #expect(result.table.allocations.map(\.address) == Self.chunks.map { $0 + 16 })
        #expect(result.table.allocations.map(\.blockSize) == [0x20, 0x30, 0x40])
        #expect(result.table.allocations.allSatisfy { $0.isUsed })
        #expect(result.mallinfo.arena == Self.heapSize)
        #expect(result.mallinfo.keepcost == Self.heapSize - 0x90)
    }

    @Test func mainArenaSymbolIsUsedWhenGivenAndCheckedWhenWrong() throws {
        let bySymbol = try Heap().walk(knownMainArena: Self.arena)
        #expect(bySymbol.table.method == "main_arena symbol")
        #expect(bySymbol.warnings.isEmpty)
        #expect(bySymbol.table.allocations.count == 3)
        let wrong = try Heap().walk(knownMainArena: Self.arena + 8)
        #expect(wrong.table.method == "main_arena found by shape in libc data")
        #expect(wrong.warnings == ["main_arena symbol \(hex(Self.arena + 8)) does not hold an arena"])
        #expect(wrong.table.allocations.count == 3)
    }

    @Test func sizeRunningPastTheHeapCostsThatChunkWithAWarning() throws {
        var heap = Heap()
        heap.setSize(Self.chunks[1], 0x30_0001)
        let result = try heap.walk()
        #expect(result.warnings.contains { $0.contains(hex(Self.chunks[1])) && $0.contains("runs past") }, "\(result.warnings)")
        // The damaged chunk is skipped; the chunk after it still leads to top and is listed.
        #expect(result.table.allocations.map(\.address) == [Self.chunks[0] + 16, Self.chunks[2] + 16])
    }

    @Test func misalignedSizeCostsThatChunkWithAWarning() throws {
        var heap = Heap()
        heap.setSize(Self.chunks[1], 0x39)
        let result = try heap.walk()
        #expect(result.warnings.contains { $0.contains(hex(Self.chunks[1])) && $0.contains("bad size") }, "\(result.warnings)")
        #expect(result.table.allocations.count == 2)
    }

    @Test func fastbinChunkIsFreeAndABadLinkIsReported() throws {
        var heap = Heap()
        // chunk 1 (0x30 bytes) heads fastbin 1; its link points at unmapped memory.
        heap.fastbins[1] = Self.chunks[1]
        heap.set(Self.chunks[1] + 16, Self.mangled(0xdead_bee0, storedAt: Self.chunks[1] + 16))
        let result = try heap.walk()
        #expect(result.warnings.contains { $0.contains("fastbin 1") && $0.contains("0xdeadbee0") }, "\(result.warnings)")
        #expect(result.table.allocations.map(\.isUsed) == [true, false, true])
        #expect(result.free.fastbinChunks == 1)
    }

    /// glibc ≥ 2.32 stores a list's end as (position >> 12), older ones as 0: the walker reads
    /// which from the data, and each gives a clean walk.
    @Test func safeLinkingIsDetectedFromTheLinks() throws {
        var plain = Heap()
        plain.fastbins[1] = Self.chunks[1]
        let unprotected = try plain.walk()
        #expect(unprotected.safeLinking == false)
        #expect(unprotected.warnings.isEmpty, "\(unprotected.warnings)")
        #expect(unprotected.table.allocations.map(\.isUsed) == [true, false, true])

        var mangled = Heap()
        mangled.fastbins[1] = Self.chunks[1]
        mangled.set(Self.chunks[1] + 16, Self.mangled(0, storedAt: Self.chunks[1] + 16))
        let protected = try mangled.walk()
        #expect(protected.safeLinking == true)
        #expect(protected.warnings.isEmpty, "\(protected.warnings)")
        #expect(protected.free.fastbinChunks == 1)
    }

    @Test func fastbinCycleIsCutWithAWarning() throws {
        var heap = Heap()
        heap.fastbins[1] = Self.chunks[1]
        heap.set(Self.chunks[1] + 16, Self.mangled(Self.chunks[1], storedAt: Self.chunks[1] + 16))
        let result = try heap.walk()
        #expect(result.warnings.contains { $0.contains("fastbin 1") && $0.contains("cycle") }, "\(result.warnings)")
        #expect(result.table.allocations.map(\.isUsed) == [true, false, true])
    }

    @Test func topPointingOutsideTheHeapWarnsWithoutTrapping() throws {
        var heap = Heap()
        heap.setSize(Self.top, 0x8000_0001)
        let result = try heap.walk()
        #expect(result.warnings.contains { $0.contains("top chunk") }, "\(result.warnings)")
        #expect(result.table.allocations.count == 3)
    }

    /// Every word of the heap and of main_arena, in turn, set to values that break arithmetic
    /// (zero, all ones, the sign bit, a pointer back into the heap): the walk must finish every
    /// time and never list more chunks than the heap holds.
    @Test func everyCorruptedWordGivesAResultNotATrap() throws {
        let hostile: [UInt64] = [0, ~0, 1 << 63, Self.heap + 0x40]
        var walks = 0
        for wordIndex in 0..<Int(Self.heapSize / 8) {
            for value in hostile {
                var heap = Heap()
                heap.words[wordIndex] = value
                let result = try heap.walk()
                walks += 1
                #expect(result.table.allocations.count <= 3)
            }
        }
        for wordIndex in 0..<(2200 / 8) {
            for value in hostile {
                var heap = Heap()
                heap.arenaOverrides[wordIndex] = value
                _ = try heap.walk()
                walks += 1
            }
        }
        #expect(walks == (512 + 275) * hostile.count)
    }
}
