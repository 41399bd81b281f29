import Symbols

/// Whether two cores are of the same program, which a growth diff needs to mean anything.
public enum ProgramIdentity {
    /// Why the cores' main executables differ, or nil when they are the same build. Build-ids
    /// decide when both cores hold one; otherwise the executables' paths do.
    public static func mismatch(_ old: ModuleSet, _ new: ModuleSet) -> String? {
        guard let before = old.executable, let after = new.executable else {
            return old.executable == nil && new.executable == nil ? nil : "only one core names its executable"
        }
        if let oldID = before.coreBuildID, let newID = after.coreBuildID {
            return oldID == newID ? nil
                : "different programs: build-id \(oldID) (\(before.name)) vs \(newID) (\(after.name))"
        }
        return before.name == after.name ? nil : "different programs: \(before.name) vs \(after.name)"
    }
}
