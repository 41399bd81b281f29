import ArgumentParser

/// How a command prints its result. JSON output is stable: see the README for its fields.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}
