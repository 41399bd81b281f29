import Allocators
import ELFCore
import Foundation
import Regions
import Symbols
import Testing
import TestFixtures

/// The glibc walker on real cores, checked against what the programs printed about their own
/// heaps: per-size counts, the tcache/fastbin/unsorted split, and glibc's own mallinfo2().
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct GlibcHeapOnSampleCoresTests {
    func walk(_ sample: SampleCore) throws -> GlibcHeapResult {
        let core = try CoreFile(path: sample.path)
        return GlibcHeap.walk(core: core, regions: RegionMap(core: core))
    }

    /// The table itself partitions the arenas the way glibc counts them: used chunks plus
    /// tcache-held chunks plus malloc's own structures (heap headers, tcache structs,
    /// fenceposts) is uordblks; the other free chunks plus the tops is fordblks.
    func expectTablePartitionsArenas(_ result: GlibcHeapResult, _ mallinfo: [String: Any]) {
        let inArenas = result.table.allocations.filter { Int($0.arena) < result.arenas.count }
        let usedBytes = inArenas.filter(\.isUsed).reduce(UInt64(0)) { $0 + $1.blockSize }
        let freeBytes = inArenas.filter { !$0.isUsed }.reduce(UInt64(0)) { $0 + $1.blockSize }
        let internalBytes = result.arenas.reduce(UInt64(0)) { $0 + $1.internalBytes }
        #expect(Int(usedBytes + result.free.tcacheBytes + internalBytes) == number(mallinfo, "uordblks"))
        #expect(Int(freeBytes - result.free.tcacheBytes + result.free.topBytes) == number(mallinfo, "fordblks"))
    }

    func sizes(_ truth: [String: Any]) -> [[String: Any]] { truth["sizes"] as? [[String: Any]] ?? [] }
    func number(_ object: [String: Any], _ key: String) -> Int? { (object[key] as? NSNumber)?.intValue }

    @Test func mallocsizesPerSizeCountsEqualTruth() throws {
        let sample = try SampleCores.core("mallocsizes")
        let result = try walk(sample)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.table.method.contains("shape"))
        #expect(result.table.allocator == "glibc " + (sample.truth["glibc_version"] as? String ?? "?"))
        let planted = sizes(sample.truth)
        #expect(planted.count == 6)
        for size in planted {
            let chunk = UInt64(try #require(number(size, "chunk_size")))
            let used = result.table.allocations.filter { $0.isUsed && $0.blockSize == chunk }
            let free = result.table.allocations.filter { !$0.isUsed && $0.blockSize == chunk }
            #expect(used.count == number(size, "live"), "used chunks of \(chunk) bytes")
            #expect(free.count == number(size, "freed"), "free chunks of \(chunk) bytes")
            #expect(used.allSatisfy { $0.usableSize == chunk - 8 })
        }
    }

    /// 11000 rows (~70 MiB per thread) outgrow a 64 MiB heap_info heap: each thread arena gets a
    /// second heap, and the first one ends in glibc's fenceposts.
    @Test func arenasWithSeveralHeapsGiveExactCountsAndMallinfo() throws {
        let sample = try SampleCores.core("mallocsizes", ["11000"])
        let result = try walk(sample)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.arenas.filter { !$0.isMain }.allSatisfy { $0.heaps.count == 2 })
        for size in sizes(sample.truth) {
            let chunk = UInt64(try #require(number(size, "chunk_size")))
            #expect(result.table.allocations.filter { $0.isUsed && $0.blockSize == chunk }.count == number(size, "live"))
        }
        let truth = try #require(sample.truth["mallinfo2"] as? [String: Any])
        #expect(Int(result.mallinfo.arena) == number(truth, "arena"))
        #expect(Int(result.mallinfo.uordblks) == number(truth, "uordblks"))
        #expect(Int(result.mallinfo.fordblks) == number(truth, "fordblks"))
        #expect(Int(result.mallinfo.ordblks) == number(truth, "ordblks"))
        expectTablePartitionsArenas(result, truth)
    }

    /// With libc's debuginfo installed (libc6-dbg), the main_arena symbol must name the very
    /// arena the shape search found, and the walk through it must be the same.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/doc/libc6-dbg"), "needs libc6-dbg"))
    func mainArenaSymbolAgreesWithTheShapeSearch() throws {
        let sample = try SampleCores.core("mallocsizes")
        let core = try CoreFile(path: sample.path)
        let symbol = try #require(GlibcHeap.mainArenaSymbol(in: try ModuleSet(core: core)))
        let byShape = try walk(sample)
        let bySymbol = GlibcHeap.walk(core: core, regions: RegionMap(core: core), knownMainArena: symbol)
        #expect(byShape.arenas.first?.address == symbol)
        #expect(bySymbol.table.method == "main_arena symbol")
        #expect(bySymbol.mallinfo == byShape.mallinfo)
        #expect(bySymbol.table.allocations == byShape.table.allocations)
    }

    @Test func mallocsizesFreeListsMatchWhereTheProgramPutThem() throws {
        let sample = try SampleCores.core("mallocsizes")
        let result = try walk(sample)
        let expected = try #require(sample.truth["expected"] as? [String: Any])
        #expect(result.free.fastbinChunks == number(expected, "fastbin_chunks"))
        #expect(result.free.fastbinBytes == UInt64(number(expected, "fastbin_bytes") ?? -1))
        #expect(result.free.unsortedChunks == number(expected, "unsorted_chunks"))
        #expect(result.free.smallbinChunks == 0 && result.free.largebinChunks == 0)
        let tcached = sizes(sample.truth).reduce(0) { $0 + (number($1, "tcache") ?? 0) }
        #expect(result.free.tcacheChunks == tcached)
        #expect(result.tcaches.count == number(sample.truth, "threads"))
        #expect(result.safeLinking == true)
    }

    @Test func mallocsizesMallinfoEqualsGlibcs() throws {
        let sample = try SampleCores.core("mallocsizes")
        let result = try walk(sample)
        let truth = try #require(sample.truth["mallinfo2"] as? [String: Any])
        let info = result.mallinfo
        let fields: [(String, UInt64)] = [
            ("arena", info.arena), ("ordblks", info.ordblks), ("smblks", info.smblks), ("hblks", info.hblks),
            ("hblkhd", info.hblkhd), ("fsmblks", info.fsmblks), ("uordblks", info.uordblks),
            ("fordblks", info.fordblks), ("keepcost", info.keepcost),
        ]
        for (name, value) in fields {
            #expect(Int(value) == number(truth, name), "mallinfo2.\(name)")
        }
        // The arenas' system_mem fields agree with the heap extents the walk measured.
        #expect(result.arenas.allSatisfy { $0.measuredSystemBytes == $0.systemMem })
        expectTablePartitionsArenas(result, truth)
        #expect(result.arenas.count == number(sample.truth, "arenas"))
    }

    @Test func mallocsizesAllocationsSitInTheirThreadsArenaAndMmappedChunksAreFound() throws {
        let sample = try SampleCores.core("mallocsizes")
        let result = try walk(sample)
        let table = result.table
        var arenaOfThread: [Int: Int32] = [:]
        for size in sizes(sample.truth) {
            let chunk = UInt64(try #require(number(size, "chunk_size")))
            for thread in size["per_thread"] as? [[String: Any]] ?? [] {
                let address = try #require(truthAddress(thread["first_live"]))
                let allocation = try #require(table.allocation(containing: address))
                #expect(allocation.address == address && allocation.isUsed && allocation.blockSize == chunk)
                let index = try #require(number(thread, "index"))
                if let known = arenaOfThread[index] { #expect(known == allocation.arena) }
                arenaOfThread[index] = allocation.arena
            }
        }
        #expect(Set(arenaOfThread.values).count == 4, "each thread has its own arena")
        #expect(arenaOfThread[0] == 0, "main thread uses main_arena")

        let mmapped = try #require(sample.truth["mmapped"] as? [String: Any])
        let chunkSize = UInt64(try #require(number(mmapped, "chunk_size")))
        let addresses = (mmapped["addresses"] as? [Any] ?? []).compactMap(truthAddress)
        #expect(addresses.count == number(mmapped, "count"))
        #expect(result.mmappedChunks == addresses.count)
        for address in addresses {
            let allocation = try #require(table.allocation(containing: address))
            #expect(allocation.address == address && allocation.isUsed && allocation.blockSize == chunkSize)
            #expect(allocation.usableSize == chunkSize - 16)
            #expect(table.arenas[Int(allocation.arena)] == "mmapped chunks")
        }
    }

    @Test func magicObjectsAreUsedAllocationsOfTheirSize() throws {
        let sample = try SampleCores.core("magic")
        let result = try walk(sample)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        for magic in sample.truth["magics"] as? [[String: Any]] ?? [] {
            let objectSize = UInt64(try #require(number(magic, "object_size")))
            let chunk = (objectSize + 8 + 15) & ~15
            let addresses = ["addresses", "anchored_addresses"].flatMap { (magic[$0] as? [Any] ?? []).compactMap(truthAddress) }
            #expect(addresses.count >= 5)
            for address in addresses {
                let allocation = try #require(result.table.allocation(containing: address))
                #expect(allocation.address == address && allocation.isUsed)
                #expect(allocation.usableSize == chunk - 8 && allocation.blockSize == chunk)
            }
            // No filler has these chunk sizes, so the used chunks of this size are the objects.
            let used = result.table.allocations.filter { $0.isUsed && $0.blockSize == chunk }.count
            #expect(used == number(magic, "count"))
        }
    }

    /// The mallocsizes core with one bin link of main_arena overwritten on disk: the damage
    /// costs that bin only. main_arena is still found, the bin is named in a warning, and the
    /// thread arenas keep their exact live counts.
    @Test func smashedMainArenaLeavesThreadArenasExact() throws {
        let sample = try SampleCores.core("mallocsizes")
        let original = try CoreFile(path: sample.path)
        let mainArena = try #require(GlibcHeap.walk(core: original, regions: RegionMap(core: original)).arenas.first?.address)
        let header = try #require(original.programHeaders.first {
            $0.type == 1 && mainArena >= $0.virtualAddress && mainArena - $0.virtualAddress < $0.fileSize
        })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sample.path)))
        let unsortedBin = Int(header.offset + (mainArena - header.virtualAddress)) + 112
        bytes.replaceSubrange(unsortedBin..<unsortedBin + 8, with: le(UInt64(0x1234_5671)))
        let path = try SyntheticCore.writeTemporary(bytes, name: "smashed-main-arena")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let core = try CoreFile(path: path)
        let result = GlibcHeap.walk(core: core, regions: RegionMap(core: core))

        #expect(result.arenas.count == 4)
        #expect(result.arenas.filter(\.isMain).map(\.address) == [mainArena])
        #expect(result.warnings.contains { $0.contains("arena \(hex(mainArena)): bins 1 have damaged fd/bk links") }, "\(result.warnings)")
        let threadArenas = Set(result.arenas.indices.filter { !result.arenas[$0].isMain }.map(Int32.init))
        for size in sizes(sample.truth) {
            let chunk = UInt64(try #require(number(size, "chunk_size")))
            let perThread = size["per_thread"] as? [[String: Any]] ?? []
            let liveInThreads = perThread.filter { number($0, "index") != 0 }.reduce(0) { $0 + (number($1, "live") ?? 0) }
            let found = result.table.allocations.filter { $0.isUsed && $0.blockSize == chunk && threadArenas.contains($0.arena) }
            #expect(found.count == liveInThreads, "live chunks of \(chunk) bytes in thread arenas")
        }
        #expect(result.mmappedChunks == 10)
    }

    @Test func bigallocBlocksAreUsedChunksOfTheirSize() throws {
        let sample = try SampleCores.core("bigalloc")
        let result = try walk(sample)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        for size in sizes(sample.truth) {
            let chunk = UInt64(try #require(number(size, "chunk_size")))
            let addresses = (size["addresses"] as? [Any] ?? []).compactMap(truthAddress)
            #expect(addresses.count == number(size, "count"))
            for address in addresses {
                let allocation = try #require(result.table.allocation(containing: address))
                #expect(allocation.address == address && allocation.isUsed && allocation.blockSize == chunk)
            }
            #expect(result.table.allocations.filter { $0.isUsed && $0.blockSize == chunk }.count == addresses.count)
        }
    }

    @Test func kernelCoreOfMallocsizesGivesTheSameMallinfo() throws {
        let sample: SampleCore
        do {
            sample = try SampleCores.core("mallocsizes", kernel: true)
        } catch {
            // make-core exits 3 when this machine cannot write kernel cores; nothing to compare.
            try #require(String(describing: error).contains("exited 3"), "\(error)")
            return
        }
        let result = try walk(sample)
        let truth = try #require(sample.truth["mallinfo2"] as? [String: Any])
        #expect(Int(result.mallinfo.uordblks) == number(truth, "uordblks"))
        #expect(Int(result.mallinfo.arena) == number(truth, "arena"))
        #expect(Int(result.mallinfo.hblkhd) == number(truth, "hblkhd"))
    }
}
