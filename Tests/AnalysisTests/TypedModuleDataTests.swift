import Foundation
import Testing
import TestFixtures

/// Module data scanned through its variables' DWARF types: stale pointer bytes in a char
/// buffer, a double array, a struct's char member and uint32_t pairs no longer anchor, while
/// pointers, uintptr_t (tagged or not) and a union's pointer member still do.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct TypedModuleDataTests {
    func verdicts(_ sample: SampleCore) throws -> (anchored: [String: Bool], leaked: [String: Bool]) {
        try sampleVerdicts(sample, anchoredCount: 8, leakedCount: 5)
    }

    @Test func withDwarfOnlyPointerWordsOfGlobalsAnchor() throws {
        let (anchored, leaked) = try verdicts(try SampleCores.core("globals"))
        #expect(anchored.filter(\.value).isEmpty, "anchored records called leaked: \(anchored.filter(\.value).keys.sorted())")
        #expect(leaked.filter { !$0.value }.isEmpty, "leaked records called anchored: \(leaked.filter { !$0.value }.keys.sorted())")
    }

    /// Without DWARF every word of module data stays a root: nothing anchored is called leaked.
    @Test func strippedModuleDataStaysConservative() throws {
        let (anchored, _) = try verdicts(try SampleCores.core("globals", strip: "all"))
        #expect(anchored.filter(\.value).isEmpty, "anchored records called leaked: \(anchored.filter(\.value).keys.sorted())")
    }
}
