@testable import HTMLReport
import Testing

/// The squarified layout: areas proportional to weights, tiles inside the bounds, no overlap.
struct TreemapLayoutTests {
    static let bounds = ChartRect(x: 0, y: 0, width: 960, height: 480)

    func check(_ weights: [Double]) {
        let rects = TreemapLayout.layout(weights, in: Self.bounds)
        #expect(rects.count == weights.count)
        let total = weights.reduce(0, +)
        for (weight, rect) in zip(weights, rects) {
            #expect(abs(rect.area - weight / total * Self.bounds.area) < 1e-6 * Self.bounds.area)
            #expect(rect.x >= -1e-9 && rect.y >= -1e-9)
            #expect(rect.x + rect.width <= Self.bounds.width + 1e-6 && rect.y + rect.height <= Self.bounds.height + 1e-6)
        }
        for i in rects.indices {
            for j in rects.indices where j > i {
                let a = rects[i], b = rects[j]
                let overlapWidth = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
                let overlapHeight = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
                #expect(overlapWidth <= 1e-6 || overlapHeight <= 1e-6, "tiles \(i) and \(j) overlap")
            }
        }
    }

    @Test func tilesAreProportionalAndDisjoint() {
        check([6, 6, 4, 3, 2, 2, 1])
        check([1000, 1, 1, 1])
        check([5])
        check((1...80).map { Double(81 - $0) * 17 })
    }

    @Test func squarifyingKeepsTilesNearSquare() {
        // The textbook example: six tiles of 6, 6, 4, 3, 2, 2, 1 on a 6×4 rectangle.
        let rects = TreemapLayout.layout([6, 6, 4, 3, 2, 2, 1], in: ChartRect(x: 0, y: 0, width: 6, height: 4))
        let worst = rects.map { max($0.width / $0.height, $0.height / $0.width) }.max() ?? .infinity
        #expect(worst < 3)
        #expect(rects[0] == ChartRect(x: 0, y: 0, width: 3, height: 2))
    }

    @Test func emptyAndZeroWeightsGiveEmptyTiles() {
        #expect(TreemapLayout.layout([], in: Self.bounds).isEmpty)
        #expect(TreemapLayout.layout([0, 0], in: Self.bounds).allSatisfy { $0.area == 0 })
        let rects = TreemapLayout.layout([3, 0], in: Self.bounds)
        #expect(rects[0] == Self.bounds)
        #expect(rects[1].area == 0)
    }
}

struct EscapingTests {
    @Test func coreTextCannotOpenATag() {
        #expect(escapedHTML("std::map<int, \"a\"&'b'>") == "std::map&lt;int, &quot;a&quot;&amp;&#39;b&#39;&gt;")
        #expect(elided("std::_Sp_counted_ptr_inplace<Subscriber>", to: 21) == "std::_Sp_c…ubscriber>")
        #expect(elided("short", to: 10) == "short")
    }
}
