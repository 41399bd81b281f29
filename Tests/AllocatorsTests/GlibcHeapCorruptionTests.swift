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
    static let arena: UInt64 = 0x7f00_0000_0060
    static let libcData: UInt64 = 0x7f00_0000_0000
    static let heap: UInt64 = 0x5555_0000_0000
    static let heapSize: UInt64 = 0x1000
    /// Three used chunks of 0x20, 0x30, 0x40 bytes, then top.
    static let chunks: [UInt64] = [heap, heap + 0x20, heap + 0x50]
    static let top: UInt64 = heap + 0x90

    struct Heap {
        var words = [UInt64](repeating: 0, count: Int(GlibcHeapCorruptionTests.heapSize / 8))
        var fastbins = [UInt64](repeating: 0, count: 10)
        /// malloc_state words to overwrite after it is built (word index → value).
        var arenaOverrides: [Int: UInt64] = [:]

        init() {
            setSize(chunks[0], 0x21)
            setSize(chunks[1], 0x31)
            setSize(chunks[2], 0x41)
            setSize(top, (heapSize - (top - heap)) | 1)
        }

        mutating func setSize(_ chunk: UInt64, _ field: UInt64) { set(chunk + 8, field) }
        mutating func set(_ address: UInt64, _ value: UInt64) { words[Int((address - heap) / 8)] = value }

        func core() throws -> String {
            var state = [UInt64](repeating: 0, count: 2200 / 8)
            for (index, head) in fastbins.enumerated() { state[2 + index] = head }
            state[12] = top
            for bin in 1..<128 {
                let selfAddress = arena + 112 + UInt64(bin - 1) * 16 - 16
                state[14 + (bin - 1) * 2] = selfAddress
                state[15 + (bin - 1) * 2] = selfAddress
            }
            state[270] = arena                      // next: the only arena
            state[273] = heapSize                   // system_mem
            state[274] = heapSize                   // max_system_mem
            for (index, value) in arenaOverrides { state[index] = value }
            var data = [UInt8](repeating: 0, count: Int(arena - libcData)) + words64(state)
            data += [UInt8](repeating: 0, count: 0x1000 - data.count)
            var synthetic = SyntheticCore()
            synthetic.segments = [
                .init(address: heap, contents: words64(words)),
                .init(address: libcData, contents: data),
            ]
            synthetic.fileMappings = [(libcData, libcData + 0x1000, 0, "/usr/lib/x86_64-linux-gnu/libc.so.6")]
            return try synthetic.write(name: "glibc-heap")
        }

        func walk(knownMainArena: UInt64? = nil) throws -> GlibcHeapResult {
            let path = try core()
            let core = try CoreFile(path: path)
            // The mapping stays valid after the file is unlinked; hundreds of walks leave no files.
            try? FileManager.default.removeItem(atPath: path)
            return GlibcHeap.walk(core: core, regions: RegionMap(core: core), knownMainArena: knownMainArena)
        }
    }

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

    @Test func sizeRunningPastTheHeapStopsThatHeapWithAWarning() throws {
        var heap = Heap()
        heap.setSize(Self.chunks[1], 0x30_0001)
        let result = try heap.walk()
        #expect(result.warnings.contains { $0.contains(hex(Self.chunks[1])) && $0.contains("runs past") }, "\(result.warnings)")
        #expect(result.table.allocations.map(\.address) == [Self.chunks[0] + 16])
    }

    @Test func misalignedSizeStopsThatHeapWithAWarning() throws {
        var heap = Heap()
        heap.setSize(Self.chunks[1], 0x39)
        let result = try heap.walk()
        #expect(result.warnings.contains { $0.contains(hex(Self.chunks[1])) && $0.contains("bad size") }, "\(result.warnings)")
        #expect(result.table.allocations.count == 1)
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
