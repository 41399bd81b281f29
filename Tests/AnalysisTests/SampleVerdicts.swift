import Analysis
import ELFCore
import Symbols
import Testing
import TestFixtures

/// The verdict `leaks` gives each object a sample lists in its truth as "anchored" or "leaked"
/// (addresses as text): true when the object is called leaked.
func sampleVerdicts(_ sample: SampleCore, anchoredCount: Int, leakedCount: Int) throws
    -> (anchored: [String: Bool], leaked: [String: Bool]) {
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
    #expect(anchored.count == anchoredCount && leaked.count == leakedCount,
            "truth: \(anchored.count) anchored, \(leaked.count) leaked")
    return (Dictionary(uniqueKeysWithValues: anchored.map { ($0, isLeaked($0)) }),
            Dictionary(uniqueKeysWithValues: leaked.map { ($0, isLeaked($0)) }))
}
