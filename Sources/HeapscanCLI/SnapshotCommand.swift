import ArgumentParser
import CoreSources
import Foundation

struct SnapshotCommand: ParsableCommand, Exemplified {
    static let examples = [
        HelpExample("heapscan snapshot 1234 -o core.1234", "a core of a running process, as gcore would write"),
        HelpExample("heapscan snapshot 1234 -o /var/tmp/server.core", "then: heapscan leaks /var/tmp/server.core"),
    ]

    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Write a core file of a running process, stopping it only while its memory is copied.",
        discussion: """
        The core holds what a kernel core of the same moment would (/proc/PID/coredump_filter \
        decides which mappings), with every thread's registers, NT_FILE and the auxiliary \
        vector; gdb and every heapscan command read it. The process is resumed before the file \
        is closed, also on errors and Ctrl-C; stderr says how long it was stopped.
        """)

    @Argument(help: "The process id.")
    var pid: Int32

    @Option(name: .shortAndLong, help: ArgumentHelp("The core file to write (created 0600, replaced if present).", valueName: "file"))
    var output: String

    func run() throws {
        let name = "pid \(pid)"
        do {
            let report = try LiveProcess.snapshot(pid: pid, to: output)
            fputs("heapscan: \(name): \(report.summary)\n", stderr)
        } catch let error as CoreSourceError {
            throw CLIError(path: name, message: error.description)
        }
    }
}
