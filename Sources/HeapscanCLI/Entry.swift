import ArgumentParser
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
            exit(0)
        } catch let error as CLIError {
            fail(error.description, status: 1)
        } catch {
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

    private static func fail(_ message: String, status: Int32) -> Never {
        fputs("heapscan: \(message)\n", stderr)
        exit(status)
    }
}
