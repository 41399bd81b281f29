import Allocators
import ELFCore
import Testing

/// How arenas are found: a thread arena through the `next` ring and its heap_info, and
/// main_arena even when libc's data is not labelled as libc's.
struct GlibcArenaDiscoveryTests {
    typealias Heap = SyntheticGlibcHeap

    @Test func threadArenaHeapIsWalkedFromItsHeapInfo() throws {
        var heap = Heap()
        heap.withThreadArena = true
        let result = try heap.walk()
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.arenas.map(\.address) == [Heap.arena, Heap.threadArena])
        let thread = try #require(result.arenas.last)
        let threadHeap = try #require(thread.heaps.first)
        #expect(thread.heaps.count == 1)
        #expect(threadHeap.start == Heap.threadHeap && threadHeap.end == Heap.threadHeap + Heap.threadHeapSize)
        #expect(threadHeap.firstChunk == Heap.threadChunk && threadHeap.holdsTop)
        #expect(threadHeap.walkedEnd == Heap.threadHeap + Heap.threadHeapSize)
        #expect(thread.topSize == Heap.threadHeapSize - (Heap.threadTop - Heap.threadHeap))
        let inThreadArena = result.table.allocations.filter { $0.arena == 1 }
        #expect(inThreadArena.map(\.address) == [Heap.threadChunk + 16])
        #expect(result.mallinfo.arena == Heap.heapSize + Heap.threadHeapSize)
        // heap_info and malloc_state are malloc's own bytes.
        #expect(thread.internalBytes == Heap.threadChunk - Heap.threadHeap)
    }

    @Test func mainArenaIsFoundThroughTheRingWhenLibcDataIsUnlabelled() throws {
        var heap = Heap()
        heap.withThreadArena = true
        heap.libcMapped = false
        let result = try heap.walk()
        #expect(result.table.method == "main_arena found through the arena list in anonymous memory")
        #expect(result.arenas.first?.address == Heap.arena)
        #expect(result.arenas.first?.isMain == true)
        #expect(result.table.allocations.count == 4)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
    }

    @Test func mainArenaAloneInAnonymousMemoryIsStillFound() throws {
        var heap = Heap()
        heap.libcMapped = false
        let result = try heap.walk()
        #expect(result.table.method == "main_arena found through the arena list in anonymous memory")
        #expect(result.table.allocations.count == 3)
    }

    /// A smashed main_arena (a bin link no arena can hold) loses the brk heap, not the thread
    /// arena: it is still found by its heap_info and walked, with warnings naming the break.
    @Test func corruptMainArenaStillLeavesThreadArenasWalked() throws {
        var heap = Heap()
        heap.withThreadArena = true
        heap.arenaOverrides[14] = 0x1234_5671
        let result = try heap.walk()
        #expect(result.table.method == "thread arena found by shape; main_arena not reached through the arena list")
        #expect(result.arenas.map(\.address) == [Heap.threadArena])
        #expect(result.arenas.allSatisfy { !$0.isMain })
        #expect(result.table.allocations.map(\.address) == [Heap.threadChunk + 16])
        #expect(result.warnings.contains { $0.contains("links to \(hex(Heap.arena))") }, "\(result.warnings)")
        #expect(result.warnings.contains { $0.contains("brk heap is not walked") }, "\(result.warnings)")
    }
}
