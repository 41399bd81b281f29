import ELFCore
import Regions
import TestFixtures

/// A synthetic core whose segments hold given bytes, opened and labelled, for scans over real
/// region maps (writable segments with no file or stack are `heap`).
struct SyntheticScanCore {
    let core: CoreFile
    let map: RegionMap

    init(_ segments: [(address: UInt64, bytes: [UInt8])], fileMappings: [(UInt64, UInt64, UInt64, String)] = []) throws {
        var synthetic = SyntheticCore()
        synthetic.segments = segments.map { .init(address: $0.address, contents: $0.bytes) }
        synthetic.fileMappings = fileMappings
        core = try CoreFile(path: try synthetic.write(name: "scan"))
        map = RegionMap(core: core)
    }

    func regions(_ labels: Set<RegionLabel> = [.heap], range: (UInt64, UInt64)? = nil) -> [Region] {
        map.select(RegionSelection(labels: labels, range: range))
    }

    /// The bytes of the selected regions as one array per run of address-contiguous regions.
    func contiguousRuns(_ regions: [Region]) -> [(address: UInt64, bytes: [UInt8])] {
        var runs: [(address: UInt64, bytes: [UInt8])] = []
        var previousEnd: UInt64?
        for region in regions {
            if let end = previousEnd, end == region.start, !runs.isEmpty {
                runs[runs.count - 1].bytes += Array(region.bytes)
            } else {
                runs.append((region.start, Array(region.bytes)))
            }
            previousEnd = region.presentEnd == region.end ? region.end : nil
        }
        return runs
    }
}
