import ArgumentParser

/// The `heapscan` command: finds what fills the heap of a process from its core dump.
public struct Heapscan: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "heapscan",
        abstract: "Find what fills the heap of a C/C++ process, from its ELF core dump alone.",
        discussion: """
        Start with `heapscan leaks CORE`: it ranks what fills the heap, leaked bytes first. Then \
        `show` an example address it prints, `explain` why an object is still referenced, `refs` \
        who else points at it, `diff` two cores of one program to see what grows, and `report` \
        one HTML page to share. The commands are listed in the order of a leak hunt; `heapscan \
        help COMMAND` shows examples.
        """,
        version: version,
        subcommands: [LeaksCommand.self, ShowCommand.self, ExplainCommand.self, RefsCommand.self, DiffCommand.self,
                      ReportCommand.self, ProfileCommand.self, TypesCommand.self, HeapCommand.self, InfoCommand.self, FindCommand.self,
                      WordsCommand.self, SnapshotCommand.self])

    /// What `--version` prints and every JSON output's `heapscanVersion`.
    static let version = "0.1.0"

    public init() {}
}
