import Analysis
import ArgumentParser
import Foundation

/// Which memory counts as a root for reachability (`--roots`).
struct RootOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Root kinds, comma separated: register, stack, module-data, anonymous, or all.",
        discussion: "An allocation is anchored when a chain of pointers leads to it from one of these."))
    var roots: String = "all"

    func kinds() throws -> Set<RootKind> {
        var kinds = Set<RootKind>()
        for part in roots.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            if name == "all" {
                kinds.formUnion(RootKind.allCases)
            } else if let kind = RootKind(rawValue: name) {
                kinds.insert(kind)
            } else {
                throw CLIError(path: nil, message: "unknown root kind '\(part)' (use register, stack, module-data, anonymous, all)")
            }
        }
        guard !kinds.isEmpty else { throw CLIError(path: nil, message: "empty --roots") }
        return kinds
    }
}
