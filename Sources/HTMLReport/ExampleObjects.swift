import Analysis

/// Per listed suspect, a few of its objects word by word, as `show` prints them.
struct ExampleObjects {
    let suspects: [Suspect]
    let examples: [[AllocationView]]

    /// The page anchor of example `index` of suspect `rank` (0-based).
    static func anchor(rank: Int, index: Int) -> String { "example-\(rank + 1)-\(index + 1)" }

    var node: BodyNode {
        let blocks: [BodyNode] = zip(suspects, examples).enumerated().flatMap { rank, pair -> [BodyNode] in
            let (suspect, views) = pair
            guard !views.isEmpty else { return [] }
            return [element("h3", [:], [textNode("#\(rank + 1) \(suspect.name)")])]
                + views.enumerated().map { index, view in self.view(view, anchor: Self.anchor(rank: rank, index: index)) }
        }
        return element("div", ["class": "examples"], blocks)
    }

    private func view(_ view: AllocationView, anchor: String) -> BodyNode {
        let what = view.type.map { "\($0) object" } ?? "allocation"
        let heading = "\(view.start): \(view.used ? "used" : "free") \(what), \(view.usableSize) bytes usable "
            + "(block \(view.blockSize)), \(view.liveness)"
        let rows = view.words.map { word in
            element("tr", [:], [
                element("td", ["class": "number"], [textNode("+\(word.offset)")]),
                element("td", ["class": "mono"], [textNode(word.value)]),
                element("td", ["class": "mono"], [textNode(word.pointsTo ?? "")]),
            ])
        }
        var children: [BodyNode] = [
            element("p", ["class": "mono"], [textNode(heading)]),
            element("table", ["class": "words"], [
                element("thead", [:], [element("tr", [:], ["offset", "value", "points to"].map { element("th", [:], [textNode($0)]) })]),
                element("tbody", [:], rows),
            ]),
        ]
        let shownBytes = UInt64(view.words.count * 8)
        if shownBytes < view.usableSize {
            children.append(element("p", ["class": "note"],
                                    [textNode("… \(view.usableSize - shownBytes) more bytes: heapscan show CORE \(view.start) --bytes \(view.usableSize)")]))
        }
        return element("div", attributes: [("class", "example"), ("id", anchor)], children)
    }
}
