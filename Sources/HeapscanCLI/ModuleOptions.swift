import ArgumentParser
import ELFCore
import Foundation
import Symbols

/// Where the executable, libraries and debuginfo of a core are, named like gdb's options.
struct ModuleOptions: ParsableArguments {
    @Option(name: .customLong("exe"), help: "The executable, when the path recorded in the core does not lead to it.")
    var executable: String?

    @Option(help: "Prefix for the paths recorded in the core (a core from another machine).")
    var sysroot: String?

    @Option(name: .customLong("debug-dir"), help: "Extra debuginfo directory (after /usr/lib/debug); repeatable.")
    var debugDirectories: [String] = []

    var symbolOptions: SymbolOptions {
        SymbolOptions(executable: executable, sysroot: sysroot, debugDirectories: debugDirectories)
    }

    /// The core's modules, resolved to files; a path the user gave that does not exist is an error.
    func load(_ core: CoreFile) throws -> ModuleSet {
        var isDirectory: ObjCBool = false
        if let executable {
            guard FileManager.default.fileExists(atPath: executable, isDirectory: &isDirectory) else {
                throw CLIError(path: executable, message: "no such executable (--exe)")
            }
            // Checked here because libdwfl would block opening a FIFO.
            var status = stat()
            guard stat(executable, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
                throw CLIError(path: executable, message: "not a regular file (--exe)")
            }
        }
        for (directory, option) in [(sysroot, "--sysroot")] + debugDirectories.map({ ($0, "--debug-dir") }) {
            guard let directory else { continue }
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError(path: directory, message: "no such directory (\(option))")
            }
        }
        do {
            return try ModuleSet(core: core, options: symbolOptions)
        } catch {
            throw CLIError(path: core.path, message: "\(error)")
        }
    }
}
