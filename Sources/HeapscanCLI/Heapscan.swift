import ArgumentParser

/// The `heapscan` command: finds what fills the heap of a process from its core dump.
public struct Heapscan: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "heapscan",
        abstract: "Find what fills the heap of a C/C++ process, from its ELF core dump alone.",
        version: "0.1.0",
        subcommands: [InfoCommand.self, FindCommand.self, WordsCommand.self, HeapCommand.self, LeaksCommand.self, ExplainCommand.self,
                      ShowCommand.self, RefsCommand.self, DiffCommand.self, TypesCommand.self, ProfileCommand.self, SnapshotCommand.self])

    public init() {}
}
