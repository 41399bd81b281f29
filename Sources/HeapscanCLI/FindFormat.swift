import ArgumentParser

/// `find` prints text, JSON, or exactly the lines gdb's `find` prints.
enum FindFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
    case gdb
}
