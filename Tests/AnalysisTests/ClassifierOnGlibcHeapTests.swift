import Allocators
import Analysis
import ELFCore
import Foundation
import Regions
import Testing
import TestFixtures

/// The glibc walk feeding the classifier and reachability on the magic core: the magic hunt
/// by allocation ("N allocations of 48 bytes carry 0xa11c0de5 at offset 0") with exact
/// counts, and leaked/anchored split as the program printed it.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct ClassifierOnGlibcHeapTests {
    @Test func magicsByAllocationAreExact() throws {
        let sample = try SampleCores.core("magic")
        let core = try CoreFile(path: sample.path)
        let regions = RegionMap(core: core)
        let table = GlibcHeap.walk(core: core, regions: regions).table
        let reachability = Reachability(table: table, roots: RootSet(core: core, regions: regions, table: table),
                                        memory: core.addressSpace)
        let report = Classifier(table: table, memory: core.addressSpace, reachability: reachability,
                                vtableRanges: [], typeOf: { _ in nil })
            .classify(corePath: sample.path)
        for magic in sample.truth["magics"] as? [[String: Any]] ?? [] {
            let value = try #require(truthAddress(magic["value"]))
            let objectSize = try #require((magic["object_size"] as? NSNumber)?.uint64Value)
            let suspect = try #require(report.suspects.first { $0.kind == .magic && $0.value == hex(value) })
            #expect(suspect.count == (magic["count"] as? NSNumber)?.intValue)
            #expect(suspect.offset == (magic["offset"] as? NSNumber)?.uint64Value)
            #expect(suspect.objectSize == (objectSize + 8 + 15) / 16 * 16 - 8)
            #expect(suspect.leaked == (magic["leaked"] as? NSNumber)?.intValue)
            #expect(suspect.anchored == (magic["anchored"] as? NSNumber)?.intValue)
        }
    }
}
