import Foundation
import Testing
import TestFixtures

/// The report as a person sees it: Chromium loads it from disk, runs its script, and must show
/// the suspects of `leaks` with their counts, log nothing to the console and request nothing.
@Suite(.enabled(if: SampleCores.canMakeCores && HeadlessChromium.path != nil,
                "needs gcc, g++, gdb and chromium (make test installs them)"))
struct ReportInBrowserTests {
    func temporaryFile(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-\(UUID().uuidString)\(suffix)").path
    }

    @Test func chromiumShowsTheSuspectsWithNoConsoleOutputOrRequest() throws {
        let sample = try SampleCores.core("leaker")
        let suspects = try #require(try HeapscanProcess.json(["leaks", sample.path])["suspects"] as? [[String: Any]])
        let page = temporaryFile(".html")
        defer { try? FileManager.default.removeItem(atPath: page) }
        let written = try HeapscanProcess.run(["report", sample.path, "-o", page])
        #expect(written.status == 0, "\(written.stderr)")

        let loaded = try HeadlessChromium.run(page, ["--dump-dom"])
        #expect(loaded.console.isEmpty, "\(loaded.console)")
        let dom = try StrictHTML.parse(loaded.stdout)
        ReportCommandTests.expectSuspects(try ReportCommandTests.rows("suspect-table", in: dom), equal: suspects)

        let screenshot = temporaryFile(".png")
        defer { try? FileManager.default.removeItem(atPath: screenshot) }
        let shot = try HeadlessChromium.run(page, ["--screenshot=\(screenshot)", "--window-size=1280,1600", "--hide-scrollbars"])
        #expect(shot.console.isEmpty, "\(shot.console)")
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
        // A blank page compresses to a few kilobytes; charts and tables do not.
        #expect(png.count > 50_000, "\(png.count) bytes")
    }

    /// Clicking a header sorts: the page's own script, run by the browser, with one click
    /// added at the end of a copy of the page.
    @Test func clickingAHeaderSortsTheSuspects() throws {
        let sample = try SampleCores.core("service")
        let page = temporaryFile(".html")
        defer { try? FileManager.default.removeItem(atPath: page) }
        #expect(try HeapscanProcess.run(["report", sample.path, "-o", page]).status == 0)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        let click = "<script>document.querySelector(\"#suspect-table th:nth-child(4)\").click();</script></body>"
        try html.replacingOccurrences(of: "</body>", with: click).write(toFile: page, atomically: true, encoding: .utf8)
        let loaded = try HeadlessChromium.run(page, ["--dump-dom"])
        #expect(loaded.console.isEmpty, "\(loaded.console)")
        let before = try ReportCommandTests.rows("suspect-table", in: try StrictHTML.parse(html))
        let after = try ReportCommandTests.rows("suspect-table", in: try StrictHTML.parse(loaded.stdout))
        let counts = { (rows: [[String: HTMLElement]]) in rows.compactMap { $0["count"]?.attributes["data-value"].flatMap { Int($0) } } }
        #expect(counts(after).count == counts(before).count)
        #expect(counts(after) == counts(before).sorted(by: >))
        #expect(counts(after) != counts(before), "leaks' order is not already by count, or the click proved nothing")
        #expect(Set(after.compactMap { $0["name"]?.textContent }) == Set(before.compactMap { $0["name"]?.textContent }))
    }

    /// The check above would see a broken script or a fetch: this page has both.
    @Test func theConsoleCheckSeesAScriptErrorAndABlockedFetch() throws {
        let page = temporaryFile(".html")
        defer { try? FileManager.default.removeItem(atPath: page) }
        try """
        <!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
        </head><body><img src="https://example.invalid/x.png"><script>notDefined();</script></body></html>
        """.write(toFile: page, atomically: true, encoding: .utf8)
        let loaded = try HeadlessChromium.run(page, ["--dump-dom"])
        #expect(loaded.console.contains { $0.contains("notDefined") }, "\(loaded.console)")
        #expect(loaded.console.contains { $0.contains("example.invalid") }, "\(loaded.console)")
    }
}
