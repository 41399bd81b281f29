import Analysis
import ELFCore

/// Growth per group since the baseline core, the rows `diff` prints, largest byte growth first.
struct GrowthTable {
    /// A core has a size group for every block size, so the rows stop here to keep the page small.
    static let maximumRows = 200

    let diff: GrowthDiff

    var node: BodyNode {
        let headers: [(String, Bool)] = [("kind", false), ("group", false), ("old count", true), ("new count", true),
                                         ("count delta", true), ("old bytes", true), ("new bytes", true),
                                         ("byte delta", true), ("growth", true)]
        let head = element("thead", [:], [element("tr", [:], headers.map { title, numeric in
            element("th", attributes: [("data-type", numeric ? "number" : "text"), ("title", "sort by \(title)")], [textNode(title)])
        })])
        let rows = diff.rows.prefix(Self.maximumRows).map { row -> BodyNode in
            func cell(_ key: String, _ value: String, _ text: String) -> BodyNode {
                element("td", attributes: [("data-key", key), ("data-value", value), ("class", "number")], [textNode(text)])
            }
            let byteDelta = (row.byteDelta > 0 ? "+" : row.byteDelta < 0 ? "-" : "") + humanBytes(row.byteDelta.magnitude)
            return element("tr", ["class": "growth"], [
                element("td", attributes: [("data-key", "kind")], [textNode(row.kind.rawValue)]),
                element("td", attributes: [("data-key", "name"), ("class", "name")], [textNode(row.name)]),
                cell("oldCount", String(row.oldCount), String(row.oldCount)),
                cell("newCount", String(row.newCount), String(row.newCount)),
                cell("countDelta", String(row.countDelta), (row.countDelta > 0 ? "+" : "") + String(row.countDelta)),
                cell("oldBytes", String(row.oldBytes), humanBytes(row.oldBytes)),
                cell("newBytes", String(row.newBytes), humanBytes(row.newBytes)),
                cell("byteDelta", String(row.byteDelta), byteDelta),
                cell("growth", row.growth.map { String($0) } ?? "Infinity",
                     row.growth.map { "\(($0 * 100).rounded() / 100)x" } ?? "new"),
            ])
        }
        let table = element("table", ["class": "sortable", "id": "growth-table"], [head, element("tbody", [:], rows)])
        guard diff.rows.count > Self.maximumRows else { return table }
        return element("div", [:], [table, element("p", ["class": "note"], [textNode(
            "\(diff.rows.count - Self.maximumRows) more groups changed less: heapscan diff OLD NEW --top 0 lists them all.")])])
    }
}
