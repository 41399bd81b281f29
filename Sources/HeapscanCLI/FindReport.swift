import Analysis
import ELFCore
import Regions
import ScanKernels

/// `heapscan find --format json`, field for field.
struct FindReport: Codable {
    struct NeedleRow: Codable {
        var needle: String
        /// The bytes matched, as hex pairs ("e5 0d 1c a1").
        var pattern: String
        var width: Int?
        var alignment: Int
        var total: UInt64
    }

    struct Hit: Codable {
        var address: String
        var needle: String
        var region: String
        var label: String
        var path: String?
        var segmentStart: String
        var segmentOffset: UInt64
        /// The `--context` dump as text, and the same bytes raw (hex, from `contextStart`).
        var context: String?
        var contextStart: String?
        var contextHex: String?
        /// The allocation holding the hit, when the allocator is known.
        var allocation: AllocationContext?
    }

    struct CountRow: Codable {
        var needle: String
        var region: String
        var label: String
        var regionStart: String
        var count: UInt64
    }

    var core: String
    var needles: [NeedleRow]
    var scannedBytes: UInt64
    var regionsScanned: Int
    var total: UInt64
    var listed: Int
    var truncated: Bool
    var hits: [Hit]?
    var counts: [CountRow]

    init(core: CoreFile, pattern: FindPattern, regions: [Region], result: FindResult, listHits: Bool,
         context: (FindHit) -> String?, allocation: (FindHit) -> AllocationContext? = { _ in nil },
         rawContext: (FindHit) -> (start: UInt64, bytes: [UInt8])? = { _ in nil }) {
        self.core = core.path
        needles = pattern.needles.enumerated().map { index, needle in
            NeedleRow(needle: needle.label, pattern: needle.bytes.map { hexByte($0) }.joined(separator: " "),
                      width: needle.width, alignment: needle.alignment, total: result.total(needle: index))
        }
        scannedBytes = result.scannedBytes
        regionsScanned = regions.count
        total = result.total
        listed = listHits ? result.hits.count : 0
        truncated = listHits && UInt64(result.hits.count) < result.total
        hits = listHits ? result.hits.map { hit in
            let region = regions[hit.regionIndex]
            let raw = rawContext(hit)
            let segmentStart = core.addressSpace.segment(containing: hit.address)?.start ?? region.start
            return Hit(address: hex(hit.address), needle: pattern.needles[hit.needle].label, region: region.displayName,
                       label: region.label.rawValue, path: region.path, segmentStart: hex(segmentStart),
                       segmentOffset: hit.address - segmentStart, context: context(hit),
                       contextStart: raw.map { hex($0.start) }, contextHex: raw.map { $0.bytes.map(hexByte).joined() },
                       allocation: allocation(hit))
        } : nil
        counts = []
        for (needle, perRegion) in result.counts.enumerated() {
            for (index, count) in perRegion.enumerated() where count > 0 {
                counts.append(CountRow(needle: pattern.needles[needle].label, region: regions[index].displayName,
                                       label: regions[index].label.rawValue, regionStart: hex(regions[index].start),
                                       count: count))
            }
        }
    }
}

func hexByte(_ byte: UInt8) -> String {
    byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
}
