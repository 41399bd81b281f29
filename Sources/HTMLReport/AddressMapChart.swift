import Foundation
import ELFCore

/// The address space as rows in address order, one per region, each bar as long as the
/// region on a log axis, so a 4 KiB guard page and a 1 GiB heap both show.
struct AddressMapChart {
    static let width = 960.0
    static let rowHeight = 14.0
    static let addressWidth = 130.0
    static let barWidth = 420.0
    /// Past this many regions only the largest are drawn (a core may map thousands).
    static let maximumRows = 300
    static let smallestLog = 12.0

    let rows: [ReportContent.RegionRow]
    /// Regions left out to keep the map readable.
    let omitted: Int

    init(regions: [ReportContent.RegionRow]) {
        if regions.count > Self.maximumRows {
            let largest = regions.sorted { $0.end - $0.start > $1.end - $1.start }.prefix(Self.maximumRows)
            rows = largest.sorted { $0.start < $1.start }
            omitted = regions.count - Self.maximumRows
        } else {
            rows = regions
            omitted = 0
        }
    }

    private static func log2Size(_ size: UInt64) -> Double { size > 0 ? log2(Double(size)) : 0 }

    var svg: BodyNode {
        let largestLog = max(Self.smallestLog + 1, rows.map { Self.log2Size($0.end - $0.start) }.max() ?? 0)
        func barLength(_ size: UInt64) -> Double {
            // The smallest region still gets a sliver: the axis starts one doubling below 4 KiB.
            let scaled = (Self.log2Size(size) - (Self.smallestLog - 1)) / (largestLog - (Self.smallestLog - 1))
            return Self.barWidth * min(1, max(0.01, scaled))
        }
        let top = 24.0
        let height = top + Double(rows.count) * Self.rowHeight + 6
        var children: [BodyNode] = []
        var tick = Self.smallestLog
        while tick <= largestLog {
            let x = Self.addressWidth + barLength(1 << UInt64(tick))
            children.append(element("line", attributes: [("x1", svgNumber(x)), ("y1", svgNumber(top - 4)), ("x2", svgNumber(x)),
                                                         ("y2", svgNumber(height)), ("class", "grid")]))
            children.append(element("text", attributes: [("x", svgNumber(x)), ("y", svgNumber(top - 8)), ("class", "axis-label")],
                                    [textNode(humanBytes(1 << UInt64(tick)))]))
            tick += 5
        }
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * Self.rowHeight
            let size = row.end - row.start
            children.append(element("g", [:], [
                element("title", [:], [textNode("\(hex(row.start))–\(hex(row.end)) \(humanBytes(size)) \(row.label): \(row.name)")]),
                element("text", attributes: [("x", "0"), ("y", svgNumber(y + 11)), ("class", "address")], [textNode(hex(row.start))]),
                element("rect", attributes: [("x", svgNumber(Self.addressWidth)), ("y", svgNumber(y + 2)),
                                             ("width", svgNumber(barLength(size))), ("height", svgNumber(Self.rowHeight - 3)),
                                             ("fill", ChartPalette.fill(ofRegionLabel: row.label))]),
                element("text", attributes: [("x", svgNumber(Self.addressWidth + Self.barWidth + 8)), ("y", svgNumber(y + 11)),
                                             ("class", "region-name")],
                        [textNode(elided("\(humanBytes(size))  \(row.name)", to: 60))]),
            ]))
        }
        return element("svg", ["xmlns": "http://www.w3.org/2000/svg", "class": "chart", "role": "img",
                               "viewBox": "0 0 \(svgNumber(Self.width)) \(svgNumber(height))",
                               "aria-label": "address space map of the regions, sizes on a log axis"], children)
    }
}
