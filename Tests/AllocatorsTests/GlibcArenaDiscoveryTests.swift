import Allocators
import ELFCore
import Testing
import TestFixtures

/// How arenas are found: a thread arena through the `next` ring and its heap_info, and
/// main_arena even when libc's data is not labelled as libc's.
struct GlibcArenaDiscoveryTests {
    typealias Heap = SyntheticGlibcHeap

    /// A heap of a 0x20-byte chunk held in tcache bin 0, the 0x290-byte tcache struct (uint16
    /// counts) and a used 0x30-byte chunk after whichever of the two comes last, then top.
    func heapWithTcache(cachedChunk: UInt64, tcacheChunk: UInt64) -> (Heap, tcache: UInt64) {
        var heap = Heap()
        heap.words = [UInt64](repeating: 0, count: heap.words.count)
        let usedChunk = max(cachedChunk + 0x20, tcacheChunk + 0x290)
        let top = usedChunk + 0x30
        heap.setSize(cachedChunk, 0x21)
        heap.setSize(tcacheChunk, 0x290 | 1)
        heap.setSize(usedChunk, 0x31)
        heap.setSize(top, (Heap.heapSize - (top - Heap.heap)) | 1)
        let tcache = tcacheChunk + 16
        heap.set(tcache, 1)
        heap.set(tcache + 128, cachedChunk + 16)
        heap.set(cachedChunk + 16, (cachedChunk + 16) >> 12)
        heap.arenaOverrides[12] = top
        return (heap, tcache)
    }

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

    /// A smashed main_arena (a lock word no arena can hold) loses neither heap: the thread arena
    /// is found by its heap_info, the brk heap by its chunks alone, with warnings naming both.
    @Test func corruptMainArenaStillLeavesEveryHeapWalked() throws {
        var heap = Heap()
        heap.withThreadArena = true
        heap.arenaOverrides[0] = 0x1234_5671
        let result = try heap.walk()
        #expect(result.table.method == "thread arena found by shape; main_arena not reached through the arena list; brk heap found by walking its chunks")
        #expect(result.arenas.map(\.address) == [Heap.threadArena, 0])
        #expect(result.arenas.map(\.isMain) == [false, true])
        #expect(result.arenas.last?.topSize == Heap.heapSize - (Heap.top - Heap.heap))
        #expect(result.table.allocations.map(\.address) == Heap.chunks.map { $0 + 16 } + [Heap.threadChunk + 16])
        #expect(result.table.arenas == ["arena \(hex(Heap.threadArena))", "brk heap (main_arena not found)", "mmapped chunks"])
        #expect(result.warnings.contains { $0.contains("links to \(hex(Heap.arena))") }, "\(result.warnings)")
        #expect(result.warnings.contains { $0.contains("brk heap \(hex(Heap.heap))") }, "\(result.warnings)")
    }

    @Test func brkHeapIsFoundByItsChunksWhenNoArenaIs() throws {
        var heap = Heap()
        heap.arenaOverrides[14] = 0x1234_5671
        let result = try heap.walk()
        #expect(result.table.method == "no main_arena found; brk heap found by walking its chunks")
        #expect(result.table.allocations.map(\.address) == Heap.chunks.map { $0 + 16 })
        #expect(result.table.allocations.allSatisfy { $0.isUsed })
        #expect(result.mallinfo.keepcost == Heap.heapSize - (Heap.top - Heap.heap))
    }

    /// A thread's TLS points at its tcache_perthread_struct in the middle of the heap (as when
    /// threads share an arena): the struct is malloc's, not an allocation, and the chunk in its
    /// bin 0 is free although the heap walk sees it in use. Both layouts: uint16 counts (glibc
    /// 2.30 on, a 0x290-byte chunk) and char counts (2.26–2.29, 0x250).
    @Test(arguments: [(2, UInt64(0x290)), (1, UInt64(0x250))])
    func tcacheFoundThroughThreadPointerMidHeap(countWidth: Int, structChunk: UInt64) throws {
        var heap = Heap()
        heap.words = [UInt64](repeating: 0, count: heap.words.count)
        let cachedChunk = Heap.heap
        let tcacheChunk = Heap.heap + 0x20
        let usedChunk = tcacheChunk + structChunk
        let top = usedChunk + 0x30
        heap.setSize(cachedChunk, 0x21)
        heap.setSize(tcacheChunk, structChunk | 1)
        heap.setSize(usedChunk, 0x31)
        heap.setSize(top, (Heap.heapSize - (top - Heap.heap)) | 1)
        let tcache = tcacheChunk + 16
        heap.set(tcache, 1)                                             // counts[0] = 1
        heap.set(tcache + UInt64(64 * countWidth), cachedChunk + 16)    // entries[0]
        heap.set(cachedChunk + 16, (cachedChunk + 16) >> 12)            // safe-linked end of list
        heap.arenaOverrides[12] = top
        let tls: UInt64 = 0x7f20_0000_0000
        var tlsWords = [UInt64](repeating: 0, count: 512)
        tlsWords[500] = tcache
        heap.extraSegments = [.init(address: tls, contents: words64(tlsWords))]
        heap.threads = [.init(tid: 77, stackPointer: tls + 0x100, fsBase: tls + 0x1000)]

        let result = try heap.walk()
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.tcaches.map(\.address) == [tcache])
        #expect(result.tcaches.first?.threadID == 77 && result.tcaches.first?.chunks == 1)
        #expect(result.table.allocations.map(\.address) == [cachedChunk + 16, usedChunk + 16])
        #expect(result.table.allocations.map(\.isUsed) == [false, true])
        #expect(result.arenas.first?.internalBytes == structChunk)
        #expect(result.safeLinking == true)
        #expect(result.free.tcacheChunks == 1 && result.free.tcacheBytes == 0x20)
    }

    /// The static TLS block can start less than the 4 KiB search window below the thread
    /// pointer (the mapping begins there, as it does when the kernel places it so): the part of
    /// the window the core holds is searched, and the tcache is still found.
    @Test func tcacheFoundWhenTLSMappingStartsCloseBelowThreadPointer() throws {
        var (heap, tcache) = heapWithTcache(cachedChunk: Heap.heap, tcacheChunk: Heap.heap + 0x20)
        let tls: UInt64 = 0x7f20_0000_0000
        var tlsWords = [UInt64](repeating: 0, count: 0x800 / 8)
        tlsWords[0x700 / 8] = tcache
        heap.extraSegments = [.init(address: tls, contents: words64(tlsWords))]
        heap.threads = [.init(tid: 78, stackPointer: tls + 0x100, fsBase: tls + 0x740)]

        let result = try heap.walk()
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.tcaches.map(\.address) == [tcache])
        #expect(result.table.allocations.map(\.isUsed) == [false, true])
    }

    /// When tcaches cannot be looked for, the walk says so instead of silently counting their
    /// chunks as used.
    @Test func missingThreadsOrTLSAreReported() throws {
        var heap = Heap()
        heap.threads = [.init(tid: 9, stackPointer: 0x7ffd_0000_0000, fsBase: 0x7f30_0000_0000)]
        let withoutTLS = try heap.walk()
        #expect(withoutTLS.warnings == ["thread 9: its TLS below 0x7f3000000000 is not in the core; chunks in its tcache count as used"])
        heap.threads = []
        let withoutThreads = try heap.walk()
        #expect(withoutThreads.warnings.contains { $0.hasPrefix("no thread pointers in the core") })
        #expect(withoutThreads.table.allocations.count == 3)
    }

    /// A core cut short has no thread notes: the tcache that opens its heap (where a thread's
    /// first malloc puts it) is still found by its shape, and its chunk is free, not used.
    @Test func tcacheOpeningTheHeapFoundWithoutThreads() throws {
        let cachedChunk = Heap.heap + 0x290
        var (heap, tcache) = heapWithTcache(cachedChunk: cachedChunk, tcacheChunk: Heap.heap)
        let usedChunk = cachedChunk + 0x20
        heap.threads = []

        let result = try heap.walk()
        #expect(result.tcaches.map(\.address) == [tcache])
        #expect(result.tcaches.first?.threadID == nil && result.tcaches.first?.chunks == 1)
        #expect(result.table.allocations.map(\.address) == [cachedChunk + 16, usedChunk + 16])
        #expect(result.table.allocations.map(\.isUsed) == [false, true])
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains("1 more tcaches found at the start of 1 heaps") == true, "\(result.warnings)")
    }
}
