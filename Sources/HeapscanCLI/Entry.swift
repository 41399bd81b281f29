import ArgumentParser
import ELFCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs the command line; errors become one line on stderr and a non-zero exit status:
/// 1 for what went wrong with the core or the values given, 64 for a malformed command line.
public enum HeapscanMain {
    public static func run(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        if let problem = CommandSuggestion.problem(in: arguments) {
            fail(problem, status: ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try Heapscan.parseAsRoot(arguments)
            try command.run()
            stopIfInputChanged()
            exit(0)
        } catch let error as CLIError {
            stopIfInputChanged()
            fail(error.description, status: 1)
        } catch {
            stopIfInputChanged()
            let status = Heapscan.exitCode(for: error)
            // --help and --version arrive as errors too; they print as the parser prints them,
            // a subcommand's help followed by its examples.
            if status == .success {
                var message = Heapscan.fullMessage(for: error)
                while message.hasSuffix("\n") { message.removeLast() }
                guard let examples = HelpExample.examples(forHelp: message) else { Heapscan.exit(withError: error) }
                print(message + "\n\n" + HelpExample.block(examples))
                exit(0)
            }
            let message = Heapscan.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            let stripped = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
            fail(stripped + (status == .validationFailure ? " (see --help)" : ""), status: status.rawValue)
        }
    }

    /// A file that shrank while mapped read as zeros past its new end: whatever was computed
    /// from it, and whatever error those zeros caused, gives way to this one line.
    static func stopIfInputChanged() {
        if let name = MappingGuard.firstFaultedName() {
            fail("\(name): \(CoreError.changedWhileRead)", status: 1)
        }
    }

    private static func fail(_ message: String, status: Int32) -> Never {
        fputs("heapscan: \(message)\n", stderr)
        exit(status)
    }
}
