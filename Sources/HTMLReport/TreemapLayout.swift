/// A rectangle of a chart, in SVG user units.
struct ChartRect: Equatable {
    var x: Double
    var y: Double
    var width: Double
    var height: Double

    var area: Double { width * height }
}

/// The squarified treemap layout (Bruls, Huizing, van Wijk): rows of rectangles laid along the
/// shorter side, each row grown while that keeps its worst aspect ratio from getting worse, so
/// the rectangles stay near square and their labels readable.
enum TreemapLayout {
    /// One rectangle per weight, in the same order, whose areas are proportional to the
    /// weights and together tile `bounds`. Weights must be sorted largest first; zero and
    /// negative weights get empty rectangles.
    static func layout(_ weights: [Double], in bounds: ChartRect) -> [ChartRect] {
        var rects = Array(repeating: ChartRect(x: bounds.x, y: bounds.y, width: 0, height: 0), count: weights.count)
        let total = weights.reduce(0) { $0 + max(0, $1) }
        guard total > 0, bounds.area > 0 else { return rects }
        let areas = weights.map { max(0, $0) * bounds.area / total }
        var remaining = bounds
        var start = 0
        while start < areas.count, areas[start] > 0 {
            let side = min(remaining.width, remaining.height)
            var end = start + 1
            var sum = areas[start]
            var worst = worstRatio(sum: sum, smallest: areas[start], largest: areas[start], side: side)
            while end < areas.count, areas[end] > 0 {
                let candidate = worstRatio(sum: sum + areas[end], smallest: areas[end], largest: areas[start], side: side)
                guard candidate <= worst else { break }
                worst = candidate
                sum += areas[end]
                end += 1
            }
            let thickness = side > 0 ? sum / side : 0
            var offset = 0.0
            for index in start..<end {
                let length = thickness > 0 ? areas[index] / thickness : 0
                if remaining.width >= remaining.height {
                    rects[index] = ChartRect(x: remaining.x, y: remaining.y + offset, width: thickness, height: length)
                } else {
                    rects[index] = ChartRect(x: remaining.x + offset, y: remaining.y, width: length, height: thickness)
                }
                offset += length
            }
            if remaining.width >= remaining.height {
                remaining.x += thickness
                remaining.width = max(0, remaining.width - thickness)
            } else {
                remaining.y += thickness
                remaining.height = max(0, remaining.height - thickness)
            }
            start = end
        }
        return rects
    }

    private static func worstRatio(sum: Double, smallest: Double, largest: Double, side: Double) -> Double {
        guard sum > 0, smallest > 0, side > 0 else { return .infinity }
        let sideSquared = side * side
        let sumSquared = sum * sum
        return max(sideSquared * largest / sumSquared, sumSquared / (sideSquared * smallest))
    }
}
