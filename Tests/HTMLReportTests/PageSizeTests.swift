@testable import Analysis
@testable import HTMLReport
import Testing

/// The page stays a few hundred kilobytes whatever the heap: a core of tens of millions of
/// allocations has a size group per block size and thousands of regions, and each chart draws
/// a bounded number of shapes.
struct PageSizeTests {
    static func suspect(_ index: Int) -> Suspect {
        Suspect(kind: .size, name: "\(16 * (index + 1))-byte blocks", value: nil, width: nil, offset: nil, module: nil,
                count: 1000 + index, bytes: UInt64(16 * (index + 1) * (1000 + index)), share: 0.0001,
                objectSize: UInt64(16 * (index + 1) - 8), anchored: 1000, leaked: index, leakedBytes: UInt64(16 * index),
                leakRoots: index, inLeakedCycles: 0, unreferenced: 0, examples: ["0x1000", "0x2000", "0x3000"], command: "")
    }

    static let groups = 100_000

    @Test func treemapDrawsAtMostItsTilesAndKeepsEveryByte() {
        let suspects = (0..<Self.groups).map(Self.suspect)
        let used = suspects.reduce(UInt64(0)) { $0 + $1.bytes }
        let report = Classifier.Report(core: "core", allocator: "glibc", method: "test", reachabilityKnown: true, rootKinds: [],
                                       usedAllocations: suspects.reduce(0) { $0 + $1.count }, usedBytes: used,
                                       leakedAllocations: nil, leakedBytes: nil, suspects: suspects, omitted: .init(), warnings: [])
        let chart = TreemapChart(report: report)
        #expect(chart.tiles.count == TreemapChart.maximumTiles + 1)
        #expect(chart.tiles.reduce(UInt64(0)) { $0 + $1.bytes } == used)
        #expect(chart.tiles.reduce(0) { $0 + $1.count } == report.usedAllocations)
        #expect(chart.svg.render().utf8.count < 100_000)
    }

    @Test func addressMapDrawsTheLargestRegionsInAddressOrder() {
        let regions = (0..<50_000).map { (index: Int) -> ReportContent.RegionRow in
            let start = UInt64(index) << 24
            let size = UInt64(4096 * (index % 997 + 1))
            return ReportContent.RegionRow(start: start, end: start + size, label: "heap", name: "heap")
        }
        let map = AddressMapChart(regions: regions)
        #expect(map.rows.count == AddressMapChart.maximumRows)
        #expect(map.omitted == regions.count - AddressMapChart.maximumRows)
        #expect(zip(map.rows, map.rows.dropFirst()).allSatisfy { $0.start < $1.start })
        let smallestDrawn = map.rows.map { $0.end - $0.start }.min() ?? 0
        #expect(regions.filter { $0.end - $0.start > smallestDrawn }.count <= AddressMapChart.maximumRows)
        #expect(map.svg.render().utf8.count < 200_000)
    }

    @Test func growthTableListsTheLargestRowsAndSaysHowManyMore() {
        let rows = (0..<Self.groups).map { index in
            GrowthDiff.Row(kind: .size, name: "\(16 * index)-byte blocks", value: nil, oldCount: 1, newCount: 2 + index,
                           countDelta: 1 + index, oldBytes: 16, newBytes: UInt64(32 + index), byteDelta: Int64(16 + index), growth: 2)
        }
        var diff = GrowthDiff(old: Self.emptyReport, new: Self.emptyReport)
        diff.rows = rows
        let html = GrowthTable(diff: diff).node.render()
        #expect(html.components(separatedBy: "<tr class=\"growth\"").count - 1 == GrowthTable.maximumRows)
        #expect(html.contains("\(Self.groups - GrowthTable.maximumRows) more groups changed less"))
        #expect(html.utf8.count < 200_000)
    }

    static let emptyReport = Classifier.Report(core: "core", allocator: "glibc", method: "test", reachabilityKnown: true, rootKinds: [],
                                               usedAllocations: 0, usedBytes: 0, leakedAllocations: nil, leakedBytes: nil,
                                               suspects: [], omitted: .init(), warnings: [])
}
