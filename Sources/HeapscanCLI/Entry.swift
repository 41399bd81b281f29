import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Runs the command line; errors become one line on stderr and a non-zero exit status.
public enum HeapscanMain {
    public static func run(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        do {
            var command = try Heapscan.parseAsRoot(arguments)
            try command.run()
            exit(0)
        } catch let error as CLIError {
            fputs("heapscan: \(error.description)\n", stderr)
            exit(1)
        } catch {
            Heapscan.exit(withError: error)
        }
    }
}
