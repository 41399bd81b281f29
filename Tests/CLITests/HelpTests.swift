import Foundation
@testable import HeapscanCLI
import Testing
import TestFixtures

/// Help as a new user meets it: every subcommand's help ends with examples that parse, a typo
/// of a command is named with the command meant, and the top-level help says where to start.
struct HelpTests {
    static let subcommands = Heapscan.configuration.subcommands

    @Test(arguments: subcommands.compactMap { $0.configuration.commandName })
    func helpEndsWithExamplesThatParse(_ name: String) throws {
        let help = try HeapscanProcess.run([name, "--help"])
        #expect(help.status == 0)
        let parts = help.stdout.components(separatedBy: "\nEXAMPLES:\n")
        try #require(parts.count == 2, "\(name) --help has no EXAMPLES block")
        let lines = parts[1].split(separator: "\n")
        let commands = lines.filter { $0.hasPrefix("  heapscan ") }
        #expect((2...4).contains(commands.count), "\(name): \(commands.count) examples")
        #expect(commands.count * 2 == lines.count, "each example is a command and its purpose, nothing after them")
        for line in lines { #expect(line.count <= 80, "\(name): '\(line)' is wider than 80 columns") }
        for command in commands {
            let words = command.split(separator: " ").dropFirst().map(String.init)
            #expect(words.first == name)
            #expect(throws: Never.self, "\(command)") { _ = try Heapscan.parseAsRoot(words) }
        }
        let viaHelp = try HeapscanProcess.run(["help", name])
        #expect(viaHelp.status == 0)
        #expect(viaHelp.stdout.hasSuffix(parts[1]))
    }

    @Test func aMistypedCommandIsNamedWithTheOneMeant() throws {
        let leak = try HeapscanProcess.run(["leak", "core"])
        #expect(leak.status == 64)
        #expect(leak.stderr == "heapscan: unknown command 'leak'; did you mean 'leaks'? (see heapscan --help)\n")
        let helpLeak = try HeapscanProcess.run(["help", "leak"])
        #expect(helpLeak.status == 64)
        #expect(helpLeak.stdout.isEmpty)
        #expect(helpLeak.stderr.contains("did you mean 'leaks'?"))
        let unknown = try HeapscanProcess.run(["frobnicate"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr == "heapscan: unknown command 'frobnicate' (see heapscan --help)\n")
        #expect(CommandSuggestion.nearest(to: "dif") == "diff")
        #expect(CommandSuggestion.nearest(to: "exlpain") == "explain")
        #expect(CommandSuggestion.nearest(to: "zzzzzz") == nil)
        let file = try HeapscanProcess.run([SampleCores.repositoryRoot.appendingPathComponent("Package.swift").path])
        #expect(file.status == 64)
        #expect(file.stderr.contains("is a file, not a command; start with: heapscan leaks "))
    }

    @Test func topLevelHelpStartsTheLeakHunt() throws {
        let help = try HeapscanProcess.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Start with `heapscan leaks CORE`"))
        let listed = help.stdout.components(separatedBy: "SUBCOMMANDS:\n").last?.split(separator: "\n")
            .compactMap { $0.hasPrefix("  ") && !$0.hasPrefix("   ") ? $0.split(separator: " ").first.map(String.init) : nil } ?? []
        #expect(Array(listed.prefix(6)) == ["leaks", "show", "explain", "refs", "diff", "report"])
    }
}
