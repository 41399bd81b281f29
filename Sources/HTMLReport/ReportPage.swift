import Analysis
import ELFCore
import Plot

/// The report as one self-contained HTML page: header, treemap, suspects, growth (with a
/// baseline), size histogram, address map, example objects, warnings.
public struct ReportPage {
    public let content: ReportContent

    public init(content: ReportContent) { self.content = content }

    public func render() -> String {
        let leaks = content.leaks
        let listed = Array(leaks.suspects.prefix(content.tableRows))
        let anchors = content.examples.enumerated().map { rank, views in
            views.indices.map { ExampleObjects.anchor(rank: rank, index: $0) }
        }
        var sections: [BodyNode] = [
            header,
            section("treemap", "What fills the heap", [
                element("p", ["class": "note"], [textNode(
                    "Used heap bytes by group (C++ type, magic, or block size), every group however small; hatched: leaked bytes. "
                    + "Hover a tile for its numbers.")]),
                legend,
                TreemapChart(report: content.groups).svg,
            ]),
            section("suspects", "Top suspects", listed.isEmpty
                ? [element("p", [:], [textNode("no group of allocations large enough to list")])]
                : [element("p", ["class": "note"], [textNode(
                    "As heapscan leaks ranks them: leaked bytes first. roots: leaked objects nothing leaked points to (where "
                    + "the program lost them); cycles: leaked objects kept only by a leaked cycle. Click a header to sort.")]),
                   scrolling(SuspectTable(suspects: listed, exampleAnchors: anchors).node)]),
        ]
        if let growth = content.growth {
            sections.append(section("growth", "Growth since the baseline", [
                element("p", ["class": "mono"], [textNode(
                    "\(growth.old) → \(growth.new): used heap \(humanBytes(growth.oldUsedBytes)) → \(humanBytes(growth.newUsedBytes))")]),
                growth.rows.isEmpty ? element("p", [:], [textNode("no group changed")]) : scrolling(GrowthTable(diff: growth).node),
            ]))
        }
        sections.append(section("sizes", "Block sizes", [element("p", ["class": "note"], [textNode(
            "Used allocations by block size, doubling from bar to bar; hatched: leaked. Hover a bar for its bytes.")]),
            SizeHistogramChart(histogram: content.sizes).svg]))
        let map = AddressMapChart(regions: content.regions)
        sections.append(section("regions", "Address space", [
            element("p", ["class": "note"], [textNode(
                "Each mapped region in address order; bar lengths on a log scale. Red: heap, green: stacks, blue: files and modules."
                + (map.omitted > 0 ? " \(map.omitted) smaller regions are not drawn." : ""))]),
            map.svg,
        ]))
        sections.append(section("examples", "Example objects", [ExampleObjects(suspects: listed, examples: content.examples).node]))
        if !leaks.warnings.isEmpty {
            sections.append(section("warnings", "Warnings", [element("ul", [:], leaks.warnings.map {
                element("li", ["class": "warning"], [textNode($0)])
            })]))
        }
        let title = "heapscan report: \(content.process.command ?? content.corePath)"
        let page = HTML(
            .lang(.english),
            .head(
                .meta(.charset(.utf8)),
                .selfClosedElement(named: "meta", attributes: [
                    Attribute<HTML.HeadContext>(name: "http-equiv", value: "Content-Security-Policy"),
                    Attribute<HTML.HeadContext>(name: "content", value: escapedHTML(PageAssets.contentSecurityPolicy)),
                ]),
                .raw("<title>\(escapedHTML(title))</title>"),
                .style(PageAssets.style)
            ),
            .body(.group(sections), .script(.raw(PageAssets.sortScript)))
        )
        return page.render()
    }

    private var header: BodyNode {
        let leaks = content.leaks
        let process = content.process
        var facts: [(String, String)] = [
            ("core", content.corePath),
            ("process", "\(process.command ?? "?") pid \(process.pid.map(String.init) ?? "?"), \(content.threadCount) threads"),
        ]
        if let executable = process.executable { facts.append(("executable", executable)) }
        if let signal = process.signalName { facts.append(("signal", signal + (process.faultAddress.map { " at \($0)" } ?? ""))) }
        facts.append(("allocator", "\(leaks.allocator), \(leaks.method)"))
        var used = "\(leaks.usedAllocations) allocations, \(humanBytes(leaks.usedBytes))"
        if let leaked = leaks.leakedAllocations, let bytes = leaks.leakedBytes {
            used += "; leaked \(leaked) allocations, \(humanBytes(bytes))"
        }
        facts.append(("used", used))
        facts.append(("roots", leaks.reachabilityKnown ? leaks.rootKinds.joined(separator: ", ") : "unknown (no allocator walk)"))
        if let growth = content.growth { facts.append(("baseline", growth.old)) }
        return element("header", [:], [
            element("h1", [:], [textNode("heapscan report: \(process.command ?? "process") (pid \(process.pid.map(String.init) ?? "?"))")]),
            element("dl", ["class": "facts"], facts.flatMap { term, value in
                [element("dt", [:], [textNode(term)]), element("dd", [:], [textNode(value)])]
            }),
        ])
    }

    private var legend: BodyNode {
        let entries: [(String, String)] = [(ChartPalette.fill(of: .type), "C++ type"),
                                           (ChartPalette.fill(of: .container), "container part"), (ChartPalette.fill(of: .magic), "magic"),
                                           (ChartPalette.fill(of: .size), "block size"), (ChartPalette.fill(of: nil), "other"),
                                           ("#8b1a1a", "leaked (hatched)")]
        return element("p", ["class": "legend"], entries.map { colour, name in
            element("span", [:], [element("i", attributes: [("style", "background: \(colour)")]), textNode(name)])
        })
    }

    /// A wide table scrolls inside the page instead of running past its right edge.
    private func scrolling(_ table: BodyNode) -> BodyNode { element("div", ["class": "scroll"], [table]) }

    private func section(_ id: String, _ title: String, _ children: [BodyNode]) -> BodyNode {
        element("section", attributes: [("id", id)], [element("h2", [:], [textNode(title)])] + children)
    }
}
