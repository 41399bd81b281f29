import Allocators
import Analysis
import ELFCore
import Foundation
import Regions
import Testing
import TestFixtures

/// The magic hunt automated: the planted magics of the `magic` sample come out with exactly the
/// planted counts, at their offsets, in allocations of their size.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct MagicCensusTests {
    @Test func plantedMagicsWithExactCounts() throws {
        let sample = try SampleCores.core("magic")
        let core = try CoreFile(path: sample.path)
        let table = ProcessAllocator.allocationTable(core: core, regions: RegionMap(core: core))
        let census = MagicCensus(table: table, memory: core.addressSpace, corePath: sample.path)
        let magics = try #require(sample.truth["magics"] as? [[String: Any]])
        for magic in magics {
            let value = try #require(magic["value"] as? String)
            let row = try #require(census.rows.first { $0.value == value }, "\(value) not found")
            #expect(row.count == (magic["count"] as? NSNumber)?.intValue)
            #expect(row.width == (magic["width"] as? NSNumber)?.intValue)
            #expect(row.offset == (magic["offset"] as? NSNumber)?.intValue)
            let size = try #require((magic["object_size"] as? NSNumber)?.intValue)
            #expect(row.blockSize == UInt64(max(32, (size + 8 + 15) / 16 * 16)))
        }
        // The two planted magics are the two most common.
        #expect(Set(census.rows.prefix(2).map(\.value)) == Set(magics.compactMap { $0["value"] as? String }))
    }
}
