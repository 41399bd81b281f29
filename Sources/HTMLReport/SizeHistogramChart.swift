import ELFCore

/// Bars of used allocations per power-of-two block size, the leaked part hatched; the bytes
/// of each bar are in its tooltip (the treemap already shows where the bytes are).
struct SizeHistogramChart {
    static let width = 960.0
    static let height = 300.0
    static let axisHeight = 40.0
    static let topMargin = 18.0

    let histogram: SizeHistogram

    var svg: BodyNode {
        let buckets = histogram.buckets
        let largest = Double(buckets.map(\.count).max() ?? 0)
        let slot = buckets.isEmpty ? 0 : Self.width / Double(buckets.count)
        let plotHeight = Self.height - Self.axisHeight - Self.topMargin
        var children: [BodyNode] = [ChartPalette.leakedDefinition]
        for (index, bucket) in buckets.enumerated() {
            let x = Double(index) * slot + slot * 0.1
            let barWidth = slot * 0.8
            let barHeight = largest > 0 ? plotHeight * Double(bucket.count) / largest : 0
            let leakedHeight = bucket.count > 0 ? barHeight * Double(bucket.leakedCount) / Double(bucket.count) : 0
            let baseline = Self.topMargin + plotHeight
            let range = "\(humanBytes(bucket.lower))–\(bucket.upper == .max ? "" : humanBytes(bucket.upper))"
            var bar: [BodyNode] = [
                element("title", [:], [textNode("blocks of \(range): \(bucket.count) allocations, \(humanBytes(bucket.bytes)); "
                                                + "leaked \(bucket.leakedCount), \(humanBytes(bucket.leakedBytes))")]),
                element("rect", attributes: [("x", svgNumber(x)), ("y", svgNumber(baseline - barHeight)),
                                             ("width", svgNumber(barWidth)), ("height", svgNumber(barHeight)),
                                             ("fill", "#4e79a7")]),
            ]
            if leakedHeight > 0 {
                bar.append(element("rect", attributes: [("x", svgNumber(x)), ("y", svgNumber(baseline - leakedHeight)),
                                                        ("width", svgNumber(barWidth)), ("height", svgNumber(leakedHeight)),
                                                        ("fill", "url(#\(ChartPalette.leakedPattern))"), ("class", "leaked")]))
            }
            if bucket.count > 0 {
                bar.append(element("text", attributes: [("x", svgNumber(x + barWidth / 2)), ("y", svgNumber(baseline - barHeight - 4)),
                                                        ("class", "bar-label")], [textNode(String(bucket.count))]))
            }
            bar.append(element("text", attributes: [("x", svgNumber(x + barWidth / 2)), ("y", svgNumber(baseline + 16)),
                                                    ("class", "axis-label")], [textNode(humanBytes(bucket.lower))]))
            children.append(element("g", [:], bar))
        }
        children.append(element("text", attributes: [("x", svgNumber(Self.width / 2)), ("y", svgNumber(Self.height - 6)),
                                                     ("class", "axis-label")],
                                [textNode("block size (each bar: sizes from its label up to the next); bar labels: allocations")]))
        return element("svg", ["xmlns": "http://www.w3.org/2000/svg", "class": "chart", "role": "img",
                               "viewBox": "0 0 \(svgNumber(Self.width)) \(svgNumber(Self.height))",
                               "aria-label": "used allocations by block size"], children)
    }
}
