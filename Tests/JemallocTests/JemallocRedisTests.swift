import Allocators
import ELFCore
import Foundation
import Testing
import TestFixtures

/// A real jemalloc program: redis-server (Debian's, linked with libjemalloc2) filled with
/// DEBUG POPULATE, compared with its own MEMORY MALLOC-STATS.
@Suite(.enabled(if: RedisServer.isInstalled, "redis-server, redis-cli or gcore is not installed (apt-get install redis-server gdb)"),
       .timeLimit(.minutes(2)))
struct JemallocRedisTests {
    @Test func binsAndLargeClassesEqualMallocStats() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let server = try RedisServer()
        defer { server.stop() }
        #expect(try server.command("DEBUG", "POPULATE", "300000").hasPrefix("OK"))
        // The first call's reply buffers end up in the thread cache and are reused by the
        // second, so the second describes the heap as the core will hold it, except for
        // malloc_stats_print's own 64 KiB buffer, freed when the command ends.
        try server.command("MEMORY", "MALLOC-STATS")
        let stats = MallocStatsText(try server.command("MEMORY", "MALLOC-STATS"))
        let corePath = try server.gcore(into: directory)
        server.stop()

        let core = try CoreFile(path: corePath)
        let heap = try #require(try JemallocHeap.read(core: core))
        let report = heap.report(memory: core.addressSpace)
        #expect(heap.consistency.disagreeingEntries == 0)

        let classes = heap.classes
        let statsBufferIndex = try #require(classes.index(forRequest: 65536))
        #expect(stats.bins.count >= 20)
        var bins: [Int: (regions: Int, slabs: Int)] = [:]
        for bin in report.bins { bins[bin.bin] = (bin.regionsInUse, bin.slabs) }
        #expect(bins.count == stats.bins.count)
        for (index, expected) in stats.bins {
            #expect(bins[index]?.regions == expected.regions && bins[index]?.slabs == expected.slabs,
                    "bin \(index): heapscan \(String(describing: bins[index])), jemalloc \(expected)")
        }
        var expectedLarge = stats.large
        expectedLarge[statsBufferIndex, default: 0] -= 1
        expectedLarge = expectedLarge.filter { $0.value != 0 }
        var large: [Int: Int] = [:]
        for row in report.large { large[row.lextent + classes.binCount] = row.count }
        #expect(large == expectedLarge)
        #expect(report.totals.allocated == stats.allocated - 65536)
        #expect(report.threadCaches.contains { $0.thread == server.pid })
    }
}
