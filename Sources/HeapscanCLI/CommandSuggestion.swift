import Foundation

/// A first argument that names no subcommand. The parser would call `heapscan leak core` "2
/// unexpected arguments" and print the top-level help for `heapscan help leak`; this names
/// the word it does not know and the command that was probably meant.
enum CommandSuggestion {
    static var names: [String] { Heapscan.configuration.subcommands.compactMap { $0.configuration.commandName } }

    /// The one-line error for a command line whose command (or `help` topic) is unknown; nil
    /// when it is known or there is none.
    static func problem(in arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        var word = first
        if first == "help" {
            guard arguments.count > 1, !arguments[1].hasPrefix("-") else { return nil }
            word = arguments[1]
        }
        guard !names.contains(word) else { return nil }
        if first != "help", FileManager.default.fileExists(atPath: word) {
            return "'\(word)' is a file, not a command; start with: heapscan leaks \(word)"
        }
        if let near = nearest(to: word) {
            return "unknown command '\(word)'; did you mean '\(near)'? (see heapscan --help)"
        }
        return "unknown command '\(word)' (see heapscan --help)"
    }

    /// The command within two edits of `word`, or that `word` starts (`rep` for `report`).
    static func nearest(to word: String) -> String? {
        let lowered = word.lowercased()
        if lowered.count >= 2, let prefixed = names.first(where: { $0.hasPrefix(lowered) }) { return prefixed }
        let scored = names.map { ($0, editDistance(lowered, $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance; both words are a command line's, so a quadratic table is fine.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs), b = Array(rhs)
        var previous = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
