import Foundation
import Testing
import TestFixtures

/// Text output as a terminal shows it: at COLUMNS=80 and 100 no line of any command is longer
/// than the width; piped without COLUMNS (or with --wide) every name is printed whole.
struct TextWidthTests {
    static let widths = [80, 100]

    /// Every command with text output, with the options that print its widest tables, run on
    /// one sample core at the addresses its top suspects name.
    static func commands(_ core: String) throws -> [[String]] {
        let leaks = try HeapscanProcess.json(["leaks", core])
        let examples = (leaks["suspects"] as? [[String: Any]] ?? []).prefix(3).compactMap { ($0["examples"] as? [String])?.first }
        #expect(!examples.isEmpty)
        var commands: [[String]] = [
            ["info", core], ["leaks", core, "--top", "0", "--min-count", "1"], ["leaks", core, "--owners"],
            ["types", core], ["heap", core, "--free", "--top", "0"], ["words", core], ["words", core, "--by-allocation"],
            ["find", core, "--string", "ion", "--count"], ["diff", core, core, "--force"],
        ]
        for address in examples {
            commands += [["show", core, address], ["explain", core, address], ["explain", core, address, "--all"],
                         ["refs", core, address, "--depth", "2"], ["refs", core, address, "--outgoing"],
                         ["find", core, address, "--context", "16", "--limit", "5"], ["heap", core, "--address", address]]
        }
        return commands
    }

    static func tooLong(_ output: String, width: Int) -> [Substring] {
        output.split(separator: "\n").filter { $0.count > width }
    }

    @Test(arguments: ["leaker", "classes", "service", "dbserver", "jemalloc"])
    func everyLineFitsTheTerminal(_ sample: String) throws {
        let core = try SampleCores.core(sample).path
        for command in try Self.commands(core) {
            for width in Self.widths {
                let result = try HeapscanProcess.run(command, environment: ["COLUMNS": String(width)])
                #expect(result.status == 0 && !result.crashed, "\(command): \(result.stderr)")
                #expect(!result.stdout.isEmpty, "\(command)")
                #expect(Self.tooLong(result.stdout, width: width).isEmpty,
                        "\(command.joined(separator: " ")) at \(width):\n\(Self.tooLong(result.stdout, width: width).joined(separator: "\n"))")
            }
        }
    }

    @Test func profileFitsTheTerminal() throws {
        let core = try SampleCores.core("jemalloc-prof", ["0", "50"]).path
        for width in Self.widths {
            let result = try HeapscanProcess.run(["profile", core], environment: ["COLUMNS": String(width)])
            #expect(result.status == 0 && !result.stdout.isEmpty, "\(result.stderr)")
            #expect(Self.tooLong(result.stdout, width: width).isEmpty, "\(Self.tooLong(result.stdout, width: width))")
        }
    }

    /// The service sample's shared_ptr control blocks have the longest names: at 80 columns
    /// they are elided in the middle, piped or with --wide they are whole, as in the JSON.
    @Test func namesAreWholeUnlessATerminalIsNarrow() throws {
        let core = try SampleCores.core("service").path
        let leaks = try HeapscanProcess.json(["leaks", core, "--top", "0"])
        let names = (leaks["suspects"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        let long = try #require(names.first { $0.hasPrefix("std::_Sp_counted_ptr_inplace<") && $0.count > 60 }, "\(names)")

        let piped = try HeapscanProcess.run(["leaks", core, "--top", "0"])
        let wide = try HeapscanProcess.run(["leaks", core, "--top", "0", "--wide"], environment: ["COLUMNS": "80"])
        for output in [piped.stdout, wide.stdout] {
            for name in names { #expect(output.contains("  \(name)  "), "\(name)") }
            #expect(!output.contains("…"))
            #expect(output.split(separator: "\n").contains { $0.count > 100 })
        }

        let narrow = try HeapscanProcess.run(["leaks", core, "--top", "0"], environment: ["COLUMNS": "80"])
        #expect(!narrow.stdout.contains(long))
        // How much of the name is left depends on the other columns (a `container` kind is
        // wider than `type`); its start stays.
        let elided = try #require(narrow.stdout.split(separator: "\n").first { $0.contains("std::_Sp_counted_ptr_inpla") && $0.contains("…") },
                                  "\(narrow.stdout)")
        #expect(elided.count <= 80)
        // The row keeps its numbers: the count of that group is on the same line.
        let row = try #require((leaks["suspects"] as? [[String: Any]])?.first { $0["name"] as? String == long })
        let count = try #require((row["count"] as? NSNumber)?.intValue)
        #expect(narrow.stdout.split(separator: "\n").contains { $0.contains("std::_Sp_counted_ptr_inpla") && $0.contains(" \(groupedDigits(count)) ") })
        #expect(narrow.stdout.contains("(--wide shows "))
    }

    /// Counts carry thousands separators in text, never in JSON; sizes carry their unit.
    @Test func countsAreGroupedAndSizesHaveUnits() throws {
        let core = try SampleCores.core("service").path
        let leaks = try HeapscanProcess.json(["leaks", core])
        let used = try #require((leaks["usedAllocations"] as? NSNumber)?.intValue)
        #expect(used >= 1000, "the sample must have a count with a separator")
        let text = try HeapscanProcess.run(["leaks", core]).stdout
        #expect(text.contains("used       \(groupedDigits(used)) allocations"), "\(text)")
        let row = try #require((leaks["suspects"] as? [[String: Any]])?.first)
        let size = try #require((row["objectSize"] as? NSNumber)?.intValue)
        let name = try #require(row["name"] as? String)
        let line = try #require(text.split(separator: "\n").first { $0.contains("  \(name)  ") })
        #expect(line.contains(" \(groupedDigits(size)) B "), "\(line)")
        let json = try HeapscanProcess.run(["leaks", core, "--format", "json"]).stdout
        #expect(json.contains("\"usedAllocations\" : \(used)"))
    }
}
