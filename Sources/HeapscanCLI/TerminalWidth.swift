import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `--wide`, and the width text output is fitted to: COLUMNS when set, else the terminal's when
/// stdout is one, else none. Output piped to a script or grep is never cut.
struct TextWidthOptions: ParsableArguments {
    @Flag(help: "Print every name and column whole, however wide the terminal.")
    var wide = false

    /// The column limit for text output, or nil for no limit.
    var columns: Int? { wide ? nil : TerminalWidth.current() }
}

enum TerminalWidth {
    /// Narrower than this no table can keep its numbers; COLUMNS below it is taken as this.
    static let minimum = 40

    static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        if let text = environment["COLUMNS"], let columns = Int(text.trimmingCharacters(in: .whitespaces)), columns > 0 {
            return max(columns, minimum)
        }
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return max(Int(size.ws_col), minimum)
    }
}
