/// Why an input could not be turned into a core image. Each message is one line for a person
/// at a terminal; the CLI prefixes it with the input's name.
public struct CoreSourceError: Error, CustomStringConvertible {
    public let description: String
    /// The input ended inside a compressed stream: what came before it is still usable.
    public var isTruncation = false

    public init(_ description: String) {
        self.description = description
    }

    static func errno(_ action: String) -> CoreSourceError {
        CoreSourceError("\(action): \(SystemError.text())")
    }
}
