import Foundation
import Testing
import TestFixtures

/// Blocks typed by the pointers declared to point to them (`Samples/derived.c`): a struct that
/// begins with the declared one (C's embedding) keeps what its own members point to, while
/// stale pointer bytes in a char array and in the allocator's slack of a struct nothing embeds
/// anchor nothing.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct TypedPointerTests {
    @Test func withDwarfTypedPointersCutOnlyWhatNoStructEmbeds() throws {
        let (anchored, leaked) = try sampleVerdicts(try SampleCores.core("derived"), anchoredCount: 4, leakedCount: 4)
        #expect(anchored.filter(\.value).isEmpty, "anchored records called leaked: \(anchored.filter(\.value).keys.sorted())")
        #expect(leaked.filter { !$0.value }.isEmpty, "leaked records called anchored: \(leaked.filter { !$0.value }.keys.sorted())")
    }

    /// Without DWARF nothing is typed: nothing anchored is called leaked.
    @Test func strippedStaysConservative() throws {
        let (anchored, _) = try sampleVerdicts(try SampleCores.core("derived", strip: "all"), anchoredCount: 4, leakedCount: 4)
        #expect(anchored.filter(\.value).isEmpty, "anchored records called leaked: \(anchored.filter(\.value).keys.sorted())")
    }
}
