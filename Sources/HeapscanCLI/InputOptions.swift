import ArgumentParser
import CoreSources
import ELFCore
import Foundation
import ScanKernels

/// Where the core comes from when it is not a plain file: a live process, and where and how
/// loudly a compressed or piped core is unpacked.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Analyse the running process PID instead of a core: it is stopped only while its memory is copied.",
                               valueName: "pid"))
    var pid: Int32?

    @Option(help: ArgumentHelp("Unpack a compressed or piped core into a file in DIR (removed at once) instead of memory.",
                               valueName: "dir"))
    var tmpdir: String?

    @Flag(help: "Show progress on stderr even when stderr is not a terminal.")
    var progress = false

    var sourceOptions: SourceOptions {
        SourceOptions(spoolDirectory: tmpdir, showProgress: progress)
    }

    /// With --pid the parser hands the first positional argument that follows to the core
    /// argument; this gives it back to the arguments after the core.
    func shift(core: String?, _ rest: [String]) -> (core: String?, rest: [String]) {
        guard pid != nil, let core else { return (core, rest) }
        return (nil, [core] + rest)
    }

    /// The core named `core`, or the snapshot of --pid. `allowStream` is false for the cores of
    /// a command that reads two: only one input can be stdin or a pipe.
    func open(_ core: String?, allowStream: Bool = true) throws -> CoreFile {
        // Every later phase (walk, mark, classify) reports through ProgressLine.
        if progress { ProgressLine.forced.store(true, ordering: .relaxed) }
        if let pid {
            if let core { throw ValidationError("give a core or --pid \(pid), not both ('\(core)')") }
            return try openProcess(pid)
        }
        guard let core else { throw ValidationError("missing the core (a file, - for stdin, or --pid PID)") }
        return try Self.open(core, options: sourceOptions, allowStream: allowStream)
    }

    static func open(_ name: String, options: SourceOptions, allowStream: Bool) throws -> CoreFile {
        do {
            return try CoreFile(file: CoreSource.open(name, options: options, allowStream: allowStream))
        } catch let error as CoreError {
            throw CLIError(path: name, message: error.description)
        } catch let error as CoreSourceError {
            throw CLIError(path: name, message: error.description)
        }
    }

    /// Snapshots the process into memory; says on stderr how long it was stopped.
    private func openProcess(_ pid: Int32) throws -> CoreFile {
        let name = "pid \(pid)"
        do {
            let (file, report) = try LiveProcess.snapshot(pid: pid, spoolDirectory: tmpdir)
            fputs("heapscan: \(name): \(report.summary)\n", stderr)
            return try CoreFile(file: file)
        } catch let error as CoreError {
            throw CLIError(path: name, message: error.description)
        } catch let error as CoreSourceError {
            throw CLIError(path: name, message: error.description)
        }
    }
}
