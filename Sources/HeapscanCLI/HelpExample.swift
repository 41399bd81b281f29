/// A command line that ends a subcommand's help, with what it is for. Every example is parsed
/// by a test, so an option renamed later cannot leave a stale example behind.
struct HelpExample {
    let command: String
    let purpose: String

    init(_ command: String, _ purpose: String) {
        self.command = command
        self.purpose = purpose
    }

    /// The block printed after a subcommand's help, each example on its own line (short
    /// enough not to wrap on an 80-column terminal).
    static func block(_ examples: [HelpExample]) -> String {
        "EXAMPLES:\n" + examples.map { "  \($0.command)\n        \($0.purpose)" }.joined(separator: "\n")
    }

    /// The examples of the subcommand whose help `message` is (its USAGE line names it).
    static func examples(forHelp message: String) -> [HelpExample]? {
        guard let usage = message.split(separator: "\n").first(where: { $0.hasPrefix("USAGE: heapscan ") }) else { return nil }
        let name = usage.dropFirst("USAGE: heapscan ".count).prefix { $0 != " " }
        return Heapscan.configuration.subcommands.lazy
            .first { $0.configuration.commandName == String(name) }
            .flatMap { ($0 as? Exemplified.Type)?.examples }
    }
}

/// A subcommand whose help ends with 2 to 4 examples.
protocol Exemplified {
    static var examples: [HelpExample] { get }
}
