/// Roots asked about on their own: allocations anchored *only* through them are what the
/// program would lose if they went away (the frames of a stack returned, a thread exited,
/// registers were overwritten), and the rest of the roots would not keep alive.
public enum AnchorSubset: Sendable, Equatable, CustomStringConvertible {
    case kind(RootKind)
    /// The registers and the stack of one thread.
    case thread(Int32)

    func contains(_ range: RootRange) -> Bool {
        switch self {
        case let .kind(kind): range.kind == kind
        case let .thread(tid): range.threadID == tid && (range.kind == .register || range.kind == .stack)
        }
    }

    public var description: String {
        switch self {
        case .kind(.register): "registers"
        case .kind(.stack): "stacks"
        case .kind(.moduleData): "module data"
        case .kind(.anonymous): "anonymous memory"
        case let .thread(tid): "thread \(tid)"
        }
    }
}
