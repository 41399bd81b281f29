import ArgumentParser
import ELFCore

/// The core argument and output format that every one-core command takes.
struct CoreOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The core: an ELF core file (gcore, the kernel, systemd-coredump), compressed with zstd, xz, lz4 or gzip or not, a pipe, or - for stdin. Left out with --pid.",
        valueName: "core"))
    var core: String?

    @OptionGroup var input: InputOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @OptionGroup var layout: TextWidthOptions

    /// Opens the core or snapshots the process, turning any failure into the one-line error
    /// the user sees.
    func open() throws -> CoreFile {
        try input.open(core)
    }
}

/// A failure shown as `heapscan: PATH: message`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let path: String?
    let message: String

    var description: String { path.map { "\($0): \(message)" } ?? message }
}
