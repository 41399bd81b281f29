import ArgumentParser

/// How many suspects a command lists and how small a group it ignores: `leaks` and `report`
/// rank alike, so the same options give the same rows.
struct SuspectOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Show at most this many suspects (0 shows all).")
    var top = 20

    @Option(parsing: .unconditional, help: "Ignore groups with fewer allocations than this, unless they hold --min-share of the used bytes.")
    var minCount = 8

    @Option(parsing: .unconditional, help: "Show groups holding at least this percentage of the used bytes, whatever their count.")
    var minShare = 1.0

    /// Refuses values that make no list, as a one-line error (exit 1) like every bad value.
    func check() throws {
        guard top >= 0 else { throw CLIError(path: nil, message: "--top must be 0 or more") }
        guard minCount > 0 else { throw CLIError(path: nil, message: "--min-count must be at least 1") }
        guard minShare >= 0, minShare <= 100 else { throw CLIError(path: nil, message: "--min-share must be a percentage from 0 to 100") }
    }
}
