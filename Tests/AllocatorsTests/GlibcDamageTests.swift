import Allocators
import Analysis
import ELFCore
import Foundation
import Testing
import TestFixtures

/// Damage a crashed program leaves in its heap, one class at a time, on the rich synthetic heap:
/// each walk must finish, say what it skipped in a bounded number of warnings, and still
/// report the undamaged lists with the intact heap's counts.
struct GlibcDamageTests {
    typealias Rich = RichSyntheticGlibcHeap
    static let intact = Rich.Counts(allocations: 20, used: 7, tcache: 6, fastbin: 6, unsorted: 1)

    @Test func intactRichHeapIsWalkedExactly() throws {
        let result = try Rich().heap.walk()
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(Rich.counts(result) == Self.intact)
        #expect(result.safeLinking == true)
    }

    @Test func tcacheBinPointingAtItselfStopsAtTheFirstRepeat() throws {
        var rich = Rich()
        let first = rich.members(.tcache(0))[0]
        rich.heap.set(first + 16, Rich.mangled(first + 16, storedAt: first + 16))
        // counts[0] says 65535: believed only as far as the list holds distinct chunks.
        rich.heap.set(Rich.tcache, rich.heap.words[Int((Rich.tcache - SyntheticGlibcHeap.heap) / 8)] | 0xffff)
        let result = try rich.heap.walk()
        let cycles = result.warnings.filter { $0.contains("tcache") && $0.contains("cycle") }
        #expect(cycles.count == 1, "\(result.warnings)")
        #expect(result.warnings.count <= 3, "\(result.warnings)")
        var expected = Self.intact
        expected.tcache -= 1
        expected.used += 1
        #expect(Rich.counts(result) == expected)
    }

    @Test func fastbinCycleOfTwoChunksCountsEachOnce() throws {
        var rich = Rich()
        let members = rich.members(.fastbin(1))
        rich.heap.set(members[1] + 16, Rich.mangled(members[0], storedAt: members[1] + 16))
        let result = try rich.heap.walk()
        #expect(result.warnings.count == 1 && result.warnings[0].contains("fastbin 1"), "\(result.warnings)")
        #expect(result.warnings[0].contains("cycle"))
        #expect(Rich.counts(result) == Self.intact)
    }

    @Test func unsortedBinComingBackToItsChunkStops() throws {
        var rich = Rich()
        let chunk = rich.members(.unsorted)[0]
        rich.heap.set(chunk + 24, chunk)
        let result = try rich.heap.walk()
        #expect(result.warnings.contains { $0.contains("bin 1 of arena") }, "\(result.warnings)")
        #expect(result.warnings.count <= 2, "\(result.warnings)")
        #expect(Rich.counts(result) == Self.intact)
    }

    /// Every tcache bin and every fastbin forged to loop or to point at a chunk of the wrong size:
    /// the warnings stay few (aggregated) and the heap walk is untouched.
    @Test func everyListForgedGivesABoundedReport() throws {
        var rich = Rich()
        let loop = rich.members(.tcache(0))[0]
        rich.heap.set(loop + 16, Rich.mangled(loop + 16, storedAt: loop + 16))
        for bin in 0..<64 {
            rich.heap.set(Rich.tcache + 128 + UInt64(bin) * 8, loop + 16)
        }
        for word in 0..<16 { rich.heap.set(Rich.tcache + UInt64(word) * 8, 0xffff_ffff_ffff_ffff) }
        let fast = rich.members(.fastbin(0))[0]
        rich.heap.set(fast + 16, Rich.mangled(fast, storedAt: fast + 16))
        rich.heap.fastbins = [UInt64](repeating: fast, count: 10)
        let result = try rich.heap.walk()
        #expect(result.warnings.count < 30, "\(result.warnings)")
        #expect(result.warnings.contains { $0.contains("more like this") }, "\(result.warnings)")
        #expect(result.table.allocations.count == Self.intact.allocations)

        let path = try rich.heap.core()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try HeapscanProcess.run(["heap", path])
        #expect(!run.crashed && run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").count + run.stderr.split(separator: "\n").count
        #expect(lines < 100, "\(run.stdout)")
    }

    @Test func hugeSizeOfABinnedChunkCostsThatChunkOnly() throws {
        var rich = Rich()
        let chunk = rich.members(.unsorted)[0]
        rich.heap.setSize(chunk, 0x7fff_ffff_ffff_fff1)
        let result = try rich.heap.walk()
        #expect(result.warnings.contains { $0.contains(hex(chunk)) && $0.contains("skipped") }, "\(result.warnings)")
        #expect(result.warnings.contains { $0.contains("bin 1 of arena") }, "\(result.warnings)")
        var expected = Self.intact
        expected.allocations -= 1
        expected.unsorted = 0
        #expect(Rich.counts(result) == expected)
        #expect(result.mallinfo.arena == SyntheticGlibcHeap.heapSize)
    }

    @Test func inflatedMemorySizeOfTheHeapSegmentIsNotReserved() throws {
        var rich = Rich()
        rich.heap.heapMemorySize = 1 << 44
        let result = try rich.heap.walk()
        #expect(Rich.counts(result) == Self.intact)
        #expect(result.warnings.count <= 3, "\(result.warnings)")
    }

    @Test func damagedBackLinkInMainArenaCostsThatBinOnly() throws {
        var rich = Rich()
        rich.heap.arenaOverrides[15] = 0x1234_5671
        let result = try rich.heap.walk()
        #expect(result.table.method == "main_arena found by shape in libc data")
        #expect(result.warnings.contains { $0.contains("bins 1 have damaged fd/bk links") }, "\(result.warnings)")
        var expected = Self.intact
        expected.unsorted = 0
        #expect(Rich.counts(result) == expected)
    }

    /// A size that reaches exactly to top is consistent; the chunks it hides are found inside it.
    @Test func sizeReachingExactlyToTopDoesNotHideTheChunksAfterIt() throws {
        var rich = Rich()
        let first = Rich.firstChunk
        rich.heap.setSize(first, (rich.top - first) | 1)
        let result = try rich.heap.walk()
        #expect(result.warnings.count == 1 && result.warnings[0].contains("exactly to top"), "\(result.warnings)")
        #expect(Rich.counts(result) == Self.intact)
    }

    @Test func heapInfoChainComingBackToItselfStops() throws {
        var heap = SyntheticGlibcHeap()
        heap.withThreadArena = true
        heap.threadHeapPrev = SyntheticGlibcHeap.threadHeap
        let result = try heap.walk()
        #expect(result.warnings.contains { $0.contains("heap list of arena") && $0.contains("loops") }, "\(result.warnings)")
        #expect(result.table.allocations.count == 4)
    }

    @Test func arenaRingNotReturningToMainStops() throws {
        var heap = SyntheticGlibcHeap()
        heap.withThreadArena = true
        heap.threadArenaNext = SyntheticGlibcHeap.threadArena
        let result = try heap.walk(knownMainArena: SyntheticGlibcHeap.arena)
        #expect(result.warnings.contains { $0.contains("arena list loops") }, "\(result.warnings)")
        #expect(result.table.allocations.count == 4)
    }
}

/// Inputs the fuzzer found, kept as small synthetic cores.
struct GlibcFuzzRegressionTests {
    /// main_arena's top damaged to point into a thread arena's heap: that heap is walked once,
    /// for the thread arena whose heap_info names it, not listed twice.
    @Test func mainArenaTopInsideAThreadHeapDoesNotListItTwice() throws {
        var heap = SyntheticGlibcHeap()
        heap.withThreadArena = true
        heap.arenaOverrides[12] = SyntheticGlibcHeap.threadTop
        let result = try heap.walk()
        let addresses = result.table.allocations.map(\.address)
        #expect(Set(addresses).count == addresses.count)
        #expect(addresses.contains(SyntheticGlibcHeap.threadChunk + 16))
        #expect(result.warnings.contains { $0.contains("walked once") }, "\(result.warnings)")
    }

    /// Anonymous memory ending just below 2^64 (a damaged p_vaddr): the search for mmapped
    /// chunks stops at the top of the address space instead of wrapping.
    @Test func writableRangeAtTheTopOfTheAddressSpace() throws {
        var rich = RichSyntheticGlibcHeap()
        rich.heap.extraSegments.append(.init(address: 0xffff_ffff_ffff_e800, contents: [UInt8](repeating: 0, count: 0x17c0)))
        let result = try rich.heap.walk()
        #expect(RichSyntheticGlibcHeap.counts(result) == GlibcDamageTests.intact)
    }

    /// A thread whose stack pointer lies past the bytes the core holds of its stack (a cut-short
    /// stack mapping): the leak pipeline's stack root is empty, not a trap.
    @Test func stackPointerPastTheStackBytesTheCoreHolds() throws {
        var rich = RichSyntheticGlibcHeap()
        let stack: UInt64 = 0x7ffd_0000_0000
        rich.heap.extraSegments.append(.init(address: stack, contents: [UInt8](repeating: 0, count: 0x1000), memorySize: 0x4000))
        rich.heap.threads = [.init(tid: 77, stackPointer: stack + 0x3000, fsBase: RichSyntheticGlibcHeap.tls + 0x1000)]
        let path = try rich.heap.core()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let analysis = LeakAnalysis(core: try CoreFile(path: path), modules: nil, recordChains: true)
        #expect(analysis.table?.allocations.count == GlibcDamageTests.intact.allocations)
        #expect(analysis.classify() != nil)
    }
}
