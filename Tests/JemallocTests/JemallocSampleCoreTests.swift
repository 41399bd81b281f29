import Allocators
import Analysis
import ELFCore
import Foundation
import Regions
import Testing
import TestFixtures

/// The walker on a real core of Samples/jemalloc.c, against what jemalloc's mallctl said.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb (make test installs them)"))
struct JemallocSampleCoreTests {
    func load() throws -> (SampleCore, JemallocTruth, CoreFile, JemallocHeap, JemallocHeapReport) {
        let sample = try SampleCores.core("jemalloc")
        let core = try CoreFile(path: sample.path)
        let heap = try #require(try JemallocHeap.read(core: core))
        return (sample, JemallocTruth(sample), core, heap, heap.report(memory: core.addressSpace))
    }

    static func bins(_ rows: [JemallocHeapReport.Bin]) -> [Int: JemallocTruth.BinCount] {
        Dictionary(uniqueKeysWithValues: rows.map { ($0.bin, JemallocTruth.BinCount(regions: $0.regionsInUse, slabs: $0.slabs)) })
    }

    static func large(_ rows: [JemallocHeapReport.Large]) -> [Int: Int] {
        Dictionary(uniqueKeysWithValues: rows.map { ($0.lextent, $0.count) })
    }

    /// Merged bins, large classes, allocated bytes and thread-cache bytes equal mallctl's.
    static func expectMergedMatch(_ report: JemallocHeapReport, _ truth: JemallocTruth) {
        #expect(bins(report.bins) == truth.merged.bins)
        #expect(large(report.large) == truth.merged.large)
        #expect(report.totals.allocated == truth.stat("allocated"))
        #expect(Int(report.totals.cachedInThreads) == truth.merged.tcacheBytes)
    }

    @Test func detectsTheSharedLibraryAndItsVersion() throws {
        let (sample, _, _, heap, report) = try load()
        #expect(heap.detection.libraryPath?.hasSuffix("libjemalloc.so.2") == true)
        #expect(heap.detection.version == sample.truth["jemalloc_version"] as? String)
        #expect(report.allocator == "jemalloc 5.3.0")
        #expect(heap.consistency.disagreeingEntries == 0)
        #expect(heap.consistency.rejectedExtents == 0)
        #expect(heap.warnings.isEmpty, "\(heap.warnings)")
    }

    @Test func everyBinAndLargeClassOfEveryArenaEqualsMallctl() throws {
        let (_, truth, _, _, report) = try load()
        let arenas = Dictionary(uniqueKeysWithValues: report.arenas.map { ($0.index, $0) })
        #expect(Set(arenas.keys) == Set(truth.arenas.map(\.index)))
        for expected in truth.arenas {
            let arena = try #require(arenas[expected.index])
            #expect(Self.bins(arena.bins) == expected.bins, "arena \(expected.index)")
            #expect(Self.large(arena.large) == expected.large, "arena \(expected.index)")
        }
        #expect(Self.bins(report.bins) == truth.merged.bins)
        #expect(Self.large(report.large) == truth.merged.large)
        #expect(report.bins.count >= 7)
    }

    @Test func totalsEqualJemallocsStatistics() throws {
        let (_, truth, _, _, report) = try load()
        #expect(report.totals.allocated == truth.stat("allocated"))
        #expect(report.totals.active == truth.stat("active"))
        #expect(report.totals.retained == truth.stat("retained"))
        // Bins are sorted by bytes, the question the report answers first.
        #expect(report.bins.map(\.bytes) == report.bins.map(\.bytes).sorted(by: >))
    }

    @Test func threadCachesHoldWhatJemallocCounts() throws {
        let (_, truth, _, _, report) = try load()
        let caches = Dictionary(uniqueKeysWithValues: report.threadCaches.map { ($0.thread, $0) })
        let tcacheBytes = Dictionary(uniqueKeysWithValues: truth.arenas.map { ($0.index, $0.tcacheBytes) })
        #expect(truth.threads.count == 4)
        for (tid, arena) in truth.threads {
            let cache = try #require(caches[tid], "no tcache found for thread \(tid)")
            #expect(cache.arena == "arena \(arena)")
            #expect(Int(cache.bytes) == tcacheBytes[arena], "thread \(tid)")
            // Each thread freed every 3rd of 100 regions of each small planted size.
            for size: UInt64 in [32, 48, 96, 160] {
                #expect(cache.bins.first { $0.size == size }?.count == 33, "thread \(tid), \(size)-byte bin")
            }
        }
        #expect(Int(report.totals.cachedInThreads) == truth.merged.tcacheBytes)
    }

    @Test func allocationTableHoldsEveryLiveObjectAsUsed() throws {
        let (_, truth, core, heap, _) = try load()
        let table = heap.allocationTable()
        #expect(table.allocator == "jemalloc 5.3.0")
        for planted in truth.planted {
            var live = 0
            var freeTagged = 0
            for allocation in table.allocations where allocation.usableSize == planted.sizeClass {
                guard core.addressSpace.readU64(allocation.address) == planted.tag else { continue }
                if allocation.isUsed { live += 1 } else { freeTagged += 1 }
            }
            #expect(live == planted.live, "size class \(planted.sizeClass)")
            #expect(freeTagged == 0, "size class \(planted.sizeClass)")
            for address in planted.firstLive {
                let allocation = try #require(table.allocation(containing: address))
                #expect(allocation.address == address && allocation.isUsed && allocation.blockSize == planted.sizeClass)
            }
        }
        let ranges = table.managedRanges
        #expect(!ranges.isEmpty)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound < $1.lowerBound })
    }

    @Test func kernelWrittenCoreGivesTheSameBins() throws {
        let sample = try SampleCores.core("jemalloc", kernel: true)
        let truth = JemallocTruth(sample)
        let core = try CoreFile(path: sample.path)
        let report = try #require(try JemallocHeap.read(core: core)).report(memory: core.addressSpace)
        Self.expectMergedMatch(report, truth)
    }

    @Test func staticBuildIsFoundByItsBannerAndVersion() throws {
        let sample = try SampleCores.core("jemalloc-static")
        let truth = JemallocTruth(sample)
        let core = try CoreFile(path: sample.path)
        #expect(!core.fileMappings.contains { $0.path.contains("libjemalloc") })
        let heap = try #require(try JemallocHeap.read(core: core))
        #expect(heap.detection.libraryPath == nil)
        #expect(heap.detection.version == sample.truth["jemalloc_version"] as? String)
        Self.expectMergedMatch(heap.report(memory: core.addressSpace), truth)
    }

    @Test func glibcProcessIsNotMistakenForJemalloc() throws {
        let sample = try SampleCores.core("magic")
        let core = try CoreFile(path: sample.path)
        #expect(JemallocDetection.detect(in: core) == nil)
        #expect(try JemallocHeap.read(core: core) == nil)
    }

    @Test func heapCommandPrintsJemallocBinsAndLeavesGlibcToItsWalker() throws {
        let (sample, truth, _, _, _) = try load()
        let json = try HeapscanProcess.json(["heap", sample.path])
        let rows = json["bins"] as? [[String: Any]] ?? []
        var bins: [Int: JemallocTruth.BinCount] = [:]
        for row in rows {
            bins[JemallocTruth.int(row["bin"])!] = .init(regions: JemallocTruth.int(row["regionsInUse"])!,
                                                        slabs: JemallocTruth.int(row["slabs"])!)
        }
        #expect(bins == truth.merged.bins)
        let first = try #require(truth.planted.first?.firstLive.first)
        let text = try HeapscanProcess.run(["heap", sample.path, "--top", "3", "--address", hex(first + 5)])
        #expect(text.status == 0)
        #expect(text.stdout.contains("bins (7 in use, by bytes, top 3)"))
        #expect(text.stdout.contains("\(hex(first + 5)) is at offset 5 in the used region \(hex(first)) (32 B, small"))

        let glibc = try HeapscanProcess.run(["heap", try SampleCores.core("magic").path])
        #expect(glibc.status == 0 && !glibc.crashed)
        #expect(glibc.stdout.hasPrefix("allocator  glibc"))
    }

    @Test func leakAnalysisUsesTheJemallocTable() throws {
        let (_, _, core, heap, _) = try load()
        let table = ProcessAllocator.allocationTable(core: core, regions: RegionMap(core: core))
        #expect(table.allocator == "jemalloc 5.3.0")
        #expect(table.allocations == heap.allocationTable().allocations)
    }
}

/// `leaks` on a jemalloc process groups the allocations of the jemalloc table.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb (make test installs them)"))
struct JemallocLeakAnalysisTests {
    @Test func everyPlantedObjectIsAnAnchoredAllocationOfItsClass() throws {
        let sample = try SampleCores.core("jemalloc")
        let truth = JemallocTruth(sample)
        let analysis = LeakAnalysis(core: try CoreFile(path: sample.path), modules: nil)
        let report = try #require(analysis.classify())
        #expect(report.allocator == "jemalloc 5.3.0")
        #expect(report.leakedAllocations == 0)
        for planted in truth.planted where planted.sizeClass < 1 << 20 {
            let count = report.suspects.filter { $0.objectSize == planted.sizeClass }.reduce(0) { $0 + $1.count }
            #expect(count == planted.live, "\(planted.sizeClass)-byte class")
        }
    }
}
