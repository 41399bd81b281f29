/// A GNU build-id: the bytes of the NT_GNU_BUILD_ID note that identify one build of a file.
public struct BuildID: Sendable, Hashable, Encodable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Lowercase hex, as `eu-unstrip -n` and `file` print it.
    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
