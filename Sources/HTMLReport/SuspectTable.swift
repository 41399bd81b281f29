import Analysis
import ELFCore

/// The top suspects as `leaks` lists them, one row each; every number cell carries its exact
/// value in `data-value` (what the sort script orders by, and what a script reading the page
/// can trust), the text beside it is for people.
struct SuspectTable {
    let suspects: [Suspect]
    /// Per suspect, the anchors of its example objects on the page.
    let exampleAnchors: [[String]]

    var node: BodyNode {
        let headers: [(String, Bool)] = [("#", true), ("kind", false), ("suspect", false), ("count", true), ("bytes", true),
                                         ("share", true), ("size", true), ("leaked", true), ("leaked bytes", true),
                                         ("roots", true), ("cycles", true), ("anchored", true), ("examples", false)]
        let head = element("thead", [:], [element("tr", [:], headers.map { title, numeric in
            element("th", attributes: [("data-type", numeric ? "number" : "text"), ("title", "sort by \(title)")], [textNode(title)])
        })])
        let rows = suspects.enumerated().map { rank, suspect in row(rank, suspect) }
        return element("table", ["class": "sortable", "id": "suspect-table"], [head, element("tbody", [:], rows)])
    }

    private func row(_ rank: Int, _ suspect: Suspect) -> BodyNode {
        func number(_ key: String, _ value: Int?, _ text: String? = nil) -> BodyNode {
            guard let value else { return element("td", ["data-key": key, "data-value": "-1", "class": "number"], [textNode("?")]) }
            return element("td", attributes: [("data-key", key), ("data-value", String(value)), ("class", "number")],
                           [textNode(text ?? String(value))])
        }
        func bytes(_ key: String, _ value: UInt64?) -> BodyNode {
            guard let value else { return element("td", ["data-key": key, "data-value": "-1", "class": "number"], [textNode("?")]) }
            return element("td", attributes: [("data-key", key), ("data-value", String(value)), ("class", "number"),
                                              ("title", "\(value) bytes")], [textNode(humanBytes(value))])
        }
        let anchors = rank < exampleAnchors.count ? exampleAnchors[rank] : []
        let links: [BodyNode] = zip(suspect.examples, anchors).map { address, anchor in
            element("a", attributes: [("href", "#\(anchor)")], [textNode(address)])
        } + suspect.examples.dropFirst(anchors.count).map { element("span", [:], [textNode($0)]) }
        return element("tr", attributes: [("class", "suspect"), ("data-rank", String(rank + 1))], [
            number("rank", rank + 1),
            element("td", attributes: [("data-key", "kind"), ("class", "kind-\(suspect.kind.rawValue)")], [textNode(suspect.kind.rawValue)]),
            element("td", attributes: [("data-key", "name"), ("class", "name")], [textNode(suspect.name)]),
            number("count", suspect.count),
            bytes("bytes", suspect.bytes),
            element("td", attributes: [("data-key", "share"), ("data-value", String(suspect.share)), ("class", "number")],
                    [textNode(percentText(suspect.share))]),
            bytes("objectSize", suspect.objectSize),
            number("leaked", suspect.leaked),
            bytes("leakedBytes", suspect.leakedBytes),
            number("leakRoots", suspect.leakRoots),
            number("inLeakedCycles", suspect.inLeakedCycles),
            number("anchored", suspect.anchored),
            element("td", ["data-key": "examples", "class": "examples"], links),
        ])
    }
}

/// `12.3%`.
func percentText(_ share: Double) -> String {
    guard share.isFinite else { return "?" }
    return "\((share * 1000).rounded() / 10)%"
}
