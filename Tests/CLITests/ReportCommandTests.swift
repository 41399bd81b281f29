import Foundation
import Testing
import TestFixtures

/// `report` on the leaker sample: the page is strict HTML, fetches nothing, and its tables say
/// exactly what `leaks` and `diff` say of the same cores.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct ReportCommandTests {
    /// Writes the report of `arguments` into a fresh file and returns its text and path.
    func report(_ arguments: [String]) throws -> (html: String, path: String) {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("heapscan-report-\(UUID().uuidString).html").path
        let result = try HeapscanProcess.run(["report"] + arguments + ["-o", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.crashed)
        return (try String(contentsOfFile: path, encoding: .utf8), path)
    }

    static func cells(of row: HTMLElement) -> [String: HTMLElement] {
        Dictionary(row.all { $0.name == "td" && $0.attributes["data-key"] != nil }.map { ($0.attributes["data-key"]!, $0) },
                   uniquingKeysWith: { first, _ in first })
    }

    /// The rows of the table with id `id`, each as its cells by `data-key`.
    static func rows(_ id: String, in root: HTMLElement) throws -> [[String: HTMLElement]] {
        let table = try #require(root.first { $0.name == "table" && $0.attributes["id"] == id }, "no table #\(id)")
        let body = try #require(table.first { $0.name == "tbody" })
        return body.children.filter { $0.name == "tr" }.map(cells)
    }

    static func number(_ value: Any?) -> String? {
        guard let number = value as? NSNumber else { return value == nil || value is NSNull ? "-1" : nil }
        return number.stringValue
    }

    /// Every suspect row says what `leaks --format json` says: name, kind and every count.
    static func expectSuspects(_ rows: [[String: HTMLElement]], equal suspects: [[String: Any]]) {
        #expect(rows.count == suspects.count)
        for (row, suspect) in zip(rows, suspects) {
            let name = suspect["name"] as? String ?? "?"
            #expect(row["name"]?.textContent == name)
            #expect(row["kind"]?.textContent == suspect["kind"] as? String, "\(name)")
            for key in ["count", "bytes", "leaked", "anchored", "leakedBytes", "leakRoots", "inLeakedCycles", "objectSize"] {
                #expect(row[key]?.attributes["data-value"] == number(suspect[key]), "\(name) \(key)")
            }
        }
    }

    /// The service sample's names are C++ templates: `<`, `>` and `,` must come through whole.
    @Test(arguments: ["leaker", "service"])
    func reportIsStrictHTMLWithTheCountsOfLeaks(_ sampleName: String) throws {
        let sample = try SampleCores.core(sampleName)
        let leaks = try HeapscanProcess.json(["leaks", sample.path])
        let suspects = try #require(leaks["suspects"] as? [[String: Any]])
        #expect(suspects.contains { (($0["leaked"] as? NSNumber)?.intValue ?? 0) > 0 }, "the leaker sample leaks")
        let (html, _) = try report([sample.path])
        let root = try StrictHTML.parse(html)
        Self.expectSuspects(try Self.rows("suspect-table", in: root), equal: suspects)

        // The treemap names each listed group in a tile (the leaker has far fewer groups than tiles).
        let treemap = try #require(root.first { $0.name == "svg" && $0.attributes["aria-label"]?.hasPrefix("treemap") == true })
        let tileTitles = treemap.all(named: "title").map(\.textContent)
        for suspect in suspects {
            let name = try #require(suspect["name"] as? String)
            #expect(tileTitles.contains { $0.hasPrefix("\(name): \(suspect["count"] ?? "?") allocations") }, "\(name)")
        }
        #expect(!treemap.all { $0.attributes["class"] == "leaked" }.isEmpty, "leaked bytes are hatched")

        // The histogram's bars together hold every used allocation.
        let histogram = try #require(root.first { $0.name == "svg" && $0.attributes["aria-label"]?.contains("block size") == true })
        let barCounts = histogram.all(named: "title").compactMap { title -> Int? in
            guard let range = title.textContent.range(of: ": ") else { return nil }
            return Int(title.textContent[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(barCounts.reduce(0, +) == (leaks["usedAllocations"] as? NSNumber)?.intValue)

        // Example objects: the first suspect's examples link to their `show` words on the page.
        let firstRow = try #require(try Self.rows("suspect-table", in: root).first)
        let links = firstRow["examples"]?.all(named: "a") ?? []
        #expect(!links.isEmpty)
        for link in links {
            let anchor = String(try #require(link.attributes["href"]).dropFirst())
            let example = try #require(root.first { $0.attributes["id"] == anchor }, "no example #\(anchor)")
            #expect(example.textContent.contains(link.textContent), "example \(link.textContent) shows its own address")
            #expect(!example.all(named: "tr").isEmpty)
        }
    }

    @Test func reportFetchesNothing() throws {
        let sample = try SampleCores.core("leaker")
        let (html, path) = try report([sample.path])
        let root = try StrictHTML.parse(html)
        for element in root.all({ _ in true }) {
            for attribute in ["src", "href", "xlink:href", "action", "srcset", "poster", "data"] {
                guard let value = element.attributes[attribute] else { continue }
                #expect(value.hasPrefix("#"), "<\(element.name) \(attribute)=\"\(value)\"> leaves the page")
            }
            #expect(!(element.name == "link" || element.name == "iframe" || element.name == "object"), "<\(element.name)>")
            if element.name == "script" { #expect(element.attributes["src"] == nil) }
        }
        // Only the SVG namespace names a URL, and a namespace is never fetched.
        let pattern = try NSRegularExpression(pattern: "(?i)(https?|ftp|file|ws)://[^\"'\\s<>]*")
        let urls = pattern.matches(in: html, range: NSRange(html.startIndex..., in: html))
            .compactMap { Range($0.range, in: html).map { String(html[$0]) } }
            .filter { $0 != "http://www.w3.org/2000/svg" }
        #expect(urls.isEmpty, "\(urls)")
        #expect(!html.contains("url(") || html.components(separatedBy: "url(").dropFirst().allSatisfy { $0.hasPrefix("#") })
        let policy = root.first { $0.name == "meta" && $0.attributes["http-equiv"] == "Content-Security-Policy" }
        #expect(policy?.attributes["content"]?.hasPrefix("default-src 'none'") == true)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber
        #expect((size?.intValue ?? .max) < 4 << 20)
    }

    @Test func baselineAddsTheGrowthThatDiffPrints() throws {
        let one = try SampleCores.core("leaker", ["1"])
        let three = try SampleCores.core("leaker", ["3"])
        let diff = try HeapscanProcess.json(["diff", one.path, three.path, "--top", "0"])
        let expected = try #require(diff["rows"] as? [[String: Any]])
        #expect(!expected.isEmpty, "leaker 3 grew since leaker 1")
        let (html, _) = try report([three.path, "--baseline", one.path])
        let rows = try Self.rows("growth-table", in: try StrictHTML.parse(html))
        #expect(rows.count == expected.count)
        for (row, growth) in zip(rows, expected) {
            let name = growth["name"] as? String ?? "?"
            #expect(row["name"]?.textContent == name)
            for key in ["oldCount", "newCount", "countDelta", "oldBytes", "newBytes", "byteDelta"] {
                #expect(row[key]?.attributes["data-value"] == Self.number(growth[key]), "\(name) \(key)")
            }
        }
        let without = try report([three.path]).html
        #expect(!without.contains("growth-table"))
    }

    @Test func badBaselineIsOneLineError() throws {
        let sample = try SampleCores.core("leaker")
        let missing = try HeapscanProcess.run(["report", sample.path, "--baseline", "/nonexistent/core", "-o", "/dev/null"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("heapscan: /nonexistent/core: "))
        #expect(missing.stderr.split(separator: "\n").count == 1)
        let unwritable = try HeapscanProcess.run(["report", sample.path, "-o", "/nonexistent/dir/x.html"])
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr.hasPrefix("heapscan: /nonexistent/dir/x.html: cannot write"))
        let noOutput = try HeapscanProcess.run(["report", sample.path])
        #expect(noOutput.status == 64)
    }
}
