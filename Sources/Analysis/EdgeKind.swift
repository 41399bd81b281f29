/// How the mark phase knew a word for a pointer, which is how much an `explain` step can be
/// trusted.
public enum EdgeKind: String, Sendable, Codable {
    /// A pointer member of an object whose type DWARF describes.
    case precise
    /// A container's pointer recognised by its shape (a string's, a vector's or a deque's buffer).
    case recognised
    /// A word that looks like a pointer, in memory whose layout is unknown.
    case conservative
}
