import Analysis
import ELFCore

/// The treemap of used heap bytes: one rectangle per group, its area its bytes, the leaked part
/// hatched from the bottom up; past the largest groups the rest share one "other" tile.
struct TreemapChart {
    struct Tile {
        var name: String
        var kind: Suspect.Kind?
        var count: Int
        var bytes: UInt64
        var leakedBytes: UInt64
    }

    static let width = 960.0
    static let height = 480.0
    /// More tiles than this are too small to read; the rest join "other".
    static let maximumTiles = 80

    let tiles: [Tile]

    init(report: Classifier.Report) {
        let ranked = report.suspects.sorted { $0.bytes > $1.bytes }
        var tiles = ranked.prefix(Self.maximumTiles).map {
            Tile(name: $0.name, kind: $0.kind, count: $0.count, bytes: $0.bytes, leakedBytes: $0.leakedBytes ?? 0)
        }
        let listedBytes = tiles.reduce(UInt64(0)) { $0 &+ $1.bytes }
        let listedLeaked = tiles.reduce(UInt64(0)) { $0 &+ $1.leakedBytes }
        let listedCount = tiles.reduce(0) { $0 + $1.count }
        if report.usedBytes > listedBytes {
            let leaked = (report.leakedBytes ?? 0) > listedLeaked ? (report.leakedBytes ?? 0) - listedLeaked : 0
            tiles.append(Tile(name: "other (\(max(0, ranked.count - tiles.count)) smaller groups)", kind: nil, count: max(0, report.usedAllocations - listedCount),
                              bytes: report.usedBytes - listedBytes, leakedBytes: min(leaked, report.usedBytes - listedBytes)))
            tiles.sort { $0.bytes > $1.bytes }
        }
        self.tiles = tiles
    }

    var svg: BodyNode {
        let bounds = ChartRect(x: 0, y: 0, width: Self.width, height: Self.height)
        let rects = TreemapLayout.layout(tiles.map { Double($0.bytes) }, in: bounds)
        let shapes: [BodyNode] = zip(tiles, rects).compactMap { tile, rect in
            guard rect.area > 0 else { return nil }
            return self.shape(tile, rect)
        }
        return element("svg", ["xmlns": "http://www.w3.org/2000/svg", "class": "chart", "role": "img",
                               "viewBox": "0 0 \(svgNumber(Self.width)) \(svgNumber(Self.height))",
                               "aria-label": "treemap of used heap bytes by group"],
                       [ChartPalette.leakedDefinition] + shapes)
    }

    private func shape(_ tile: Tile, _ rect: ChartRect) -> BodyNode {
        let leakedShare = tile.bytes > 0 ? Double(tile.leakedBytes) / Double(tile.bytes) : 0
        let leakedHeight = rect.height * min(1, leakedShare)
        var children: [BodyNode] = [
            element("title", [:], [textNode("\(tile.name): \(tile.count) allocations, \(humanBytes(tile.bytes)), "
                                            + "leaked \(humanBytes(tile.leakedBytes))")]),
            element("rect", attributes: [("x", svgNumber(rect.x)), ("y", svgNumber(rect.y)), ("width", svgNumber(rect.width)),
                                         ("height", svgNumber(rect.height)), ("fill", ChartPalette.fill(of: tile.kind)),
                                         ("stroke", "#ffffff"), ("stroke-width", "1")]),
        ]
        if leakedHeight > 0 {
            children.append(element("rect", attributes: [
                ("x", svgNumber(rect.x)), ("y", svgNumber(rect.y + rect.height - leakedHeight)),
                ("width", svgNumber(rect.width)), ("height", svgNumber(leakedHeight)),
                ("fill", "url(#\(ChartPalette.leakedPattern))"), ("class", "leaked")]))
        }
        // About 6.5 units a character at 11 units: label only what fits.
        let characters = Int((rect.width - 6) / 6.5)
        if rect.height >= 30, characters >= 8 {
            children.append(element("text", attributes: [("x", svgNumber(rect.x + 3)), ("y", svgNumber(rect.y + 13)),
                                                         ("class", "tile-label")],
                                    [textNode(elided(tile.name, to: characters))]))
            children.append(element("text", attributes: [("x", svgNumber(rect.x + 3)), ("y", svgNumber(rect.y + 26)),
                                                         ("class", "tile-label")],
                                    [textNode(elided(humanBytes(tile.bytes), to: characters))]))
        }
        return element("g", [:], children)
    }
}

/// `std::_Sp_counted…<Subscriber>`: long names cut in the middle, where C++ templates repeat.
func elided(_ text: String, to length: Int) -> String {
    guard text.count > length, length >= 3 else { return text.count > length ? String(text.prefix(length)) : text }
    let head = (length - 1) / 2
    let tail = length - 1 - head
    return String(text.prefix(head)) + "…" + String(text.suffix(tail))
}
