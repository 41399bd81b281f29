import Allocators
import Analysis
import ELFCore
import Foundation
import Symbols
import Testing
import TestFixtures

/// Objects behind a MySQL-style allocator header (the dbserver sample): found at the header's
/// offset, scanned through their DWARF layout there, and judged object by object.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct HeaderedObjectsTests {
    @Test func typedReachabilityAppliesBehindTheHeader() throws {
        let sample = try SampleCores.core("dbserver")
        let rows = try #require(sample.truth["classes"] as? [[String: Any]])
        let header = try #require(sample.int("header_size"))
        let core = try CoreFile(path: sample.path)
        let analysis = LeakAnalysis(core: core, modules: try ModuleSet(core: core))
        #expect(analysis.objectOffsets.offsets == [UInt64(header)])
        // Every class has DWARF, so each one's vptr, wherever it sits, must have found its layout.
        #expect(analysis.typedClassCount == rows.count)
        let table = try #require(analysis.table)
        let reachability = try #require(analysis.reachability)
        for row in rows {
            let name = try #require(row["name"] as? String)
            let offset = try #require((row["offset"] as? NSNumber)?.uint64Value)
            for (key, anchored) in [("anchored_addresses", true), ("leaked_addresses", false)] {
                for object in (row[key] as? [Any] ?? []).compactMap(truthAddress) {
                    let index = try #require(table.index(containing: object), "\(name) 0x\(String(object, radix: 16))")
                    let allocation = table.allocations[index]
                    #expect(allocation.address == object - offset, "\(name) 0x\(String(object, radix: 16))")
                    #expect(analysis.objectType(of: allocation)?.type.name == name)
                    #expect(reachability.liveness(ofAllocationAt: index)?.isLeaked == !anchored,
                            "\(name) 0x\(String(object, radix: 16)) should be \(anchored ? "anchored" : "leaked")")
                }
            }
        }
    }
}
