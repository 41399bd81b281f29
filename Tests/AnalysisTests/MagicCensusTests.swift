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

/// Values realistic heaps repeat without meaning anything are not magics; real magics are.
@Suite struct MagicShapeTests {
    @Test func dataShapesAreNotMagics() {
        #expect(ValueKind.isShortText(0x33_3434, width: 8))
        #expect(ValueKind.isPairOfSmallIntegers(0x3_0000_0001))
        #expect(ValueKind.isPairOfSmallShorts(0x14_000a))
        #expect(ValueKind.isSmallShorts(0x0014_000a_0000_0006))
        #expect(ValueKind.isPlausibleDouble(0x3fb9_9999_9999_999a))   // 0.1
        #expect(ValueKind.isPlausibleDouble(0x4059_0000_0000_0000))   // 100.0
    }

    @Test func theSamplesMagicsAreMagics() {
        for magic: UInt64 in [0x5eed_0f1e_a4ed_0001, 0xb16a_110c_0800_0008, 0x4a45_4d00_0000_3000, 0xdead_beef_cafe_babe] {
            #expect(!ValueKind.isPairOfSmallIntegers(magic) && !ValueKind.isSmallShorts(magic)
                    && !ValueKind.isPlausibleDouble(magic) && !ValueKind.isShortText(magic, width: 8), "\(hex(magic))")
        }
        for magic: UInt64 in [0xa11c_0de5, 0xc0ff_ee11, 0x7ead_0003] {
            #expect(!ValueKind.isPairOfSmallShorts(magic) && !ValueKind.isShortText(magic, width: 4), "\(hex(magic))")
        }
    }
}
