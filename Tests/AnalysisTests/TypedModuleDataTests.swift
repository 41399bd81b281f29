import Analysis
import ELFCore
import Foundation
import Symbols
import Testing
import TestFixtures

/// Module data scanned through its variables' DWARF types: stale pointer bytes in a char
/// buffer, a double array, a struct's char member and uint32_t pairs no longer anchor, while
/// pointers, uintptr_t (tagged or not) and a union's pointer member still do.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct TypedModuleDataTests {
    func verdicts(_ sample: SampleCore) throws -> (anchored: [String: Bool], leaked: [String: Bool]) {
        let core = try CoreFile(path: sample.path)
        let analysis = LeakAnalysis(core: core, modules: try ModuleSet(core: core))
        let table = try #require(analysis.table)
        let reachability = try #require(analysis.reachability)
        func isLeaked(_ text: String) -> Bool {
            guard let address = truthAddress(text), let index = table.index(containing: address),
                  let liveness = reachability.liveness(ofAllocationAt: index) else { return false }
            return liveness.isLeaked
        }
        let anchored = sample.truth["anchored"] as? [String] ?? []
        let leaked = sample.truth["leaked"] as? [String] ?? []
        #expect(anchored.count == 8 && leaked.count == 5, "truth: \(anchored.count) anchored, \(leaked.count) leaked")
        return (Dictionary(uniqueKeysWithValues: anchored.map { ($0, isLeaked($0)) }),
                Dictionary(uniqueKeysWithValues: leaked.map { ($0, isLeaked($0)) }))
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
