import Foundation

/// Prints any report as stable JSON: sorted keys, so diffs and scripts see a fixed layout.
/// Every command's JSON carries `core` (the input it describes), `warnings` (what was wrong
/// with it) and `heapscanVersion` besides its own fields; docs/json.md lists them all.
func printJSON<T: Encodable>(_ value: T, core: String, warnings: [String]) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(CommonFields(report: value, core: core, warnings: warnings))
    HeapscanMain.stopIfInputChanged()
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// A report's own fields, then the ones every command shares (set last, so they are the same
/// whatever the report itself calls them).
private struct CommonFields<Report: Encodable>: Encodable {
    let report: Report
    let core: String
    let warnings: [String]

    enum Keys: String, CodingKey { case core, warnings, heapscanVersion }

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(core, forKey: .core)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(Heapscan.version, forKey: .heapscanVersion)
    }
}
