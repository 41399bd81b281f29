import ArgumentParser
import ELFCore

/// The core file argument and output format that every command takes.
struct CoreOptions: ParsableArguments {
    @Argument(help: "The ELF core file (from gcore, the kernel, or systemd-coredump).")
    var core: String

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    /// Opens the core, turning any failure into the one-line error the user sees.
    func open() throws -> CoreFile {
        try Self.open(core)
    }

    static func open(_ path: String) throws -> CoreFile {
        do {
            return try CoreFile(path: path)
        } catch let error as CoreError {
            throw CLIError(path: path, message: error.description)
        }
    }
}

/// A failure shown as `heapscan: PATH: message`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let path: String?
    let message: String

    var description: String { path.map { "\($0): \(message)" } ?? message }
}
