import ELFCore
import Regions

/// Classes of word values that `words` can leave out before ranking.
public struct WordSkip: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let zero = WordSkip(rawValue: 1)
    /// 1…65535, and -65536…-1 in the word's width.
    public static let small = WordSkip(rawValue: 2)
    /// Values that point into any region of the core.
    public static let pointers = WordSkip(rawValue: 4)
    /// Values whose bytes read as ASCII text.
    public static let text = WordSkip(rawValue: 8)

    public static let defaults: WordSkip = [.zero, .small]
    public static let names: [(String, WordSkip)] = [("zero", .zero), ("small", .small), ("pointers", .pointers), ("text", .text)]

    public struct ParseError: Error, CustomStringConvertible {
        public let name: String
        public var description: String { "unknown skip class '\(name)' (use zero, small, pointers, text, none)" }
    }

    /// `zero,small`; `none` for nothing.
    public static func parse(_ text: String) throws -> WordSkip {
        var skip: WordSkip = []
        for part in text.split(separator: ",") {
            let name = part.trimmingSpaces().lowercased()
            if name == "none" { continue }
            guard let match = names.first(where: { $0.0 == name }) else { throw ParseError(name: name) }
            skip.insert(match.1)
        }
        return skip
    }

    public var names: [String] { Self.names.filter { contains($0.1) }.map(\.0) }
}

/// Where a pointer-looking value points.
public struct PointerTarget: Sendable, Hashable {
    public let label: RegionLabel
    /// The region's display name: `heap`, `stack of thread 7`, a file path.
    public let name: String
    public let path: String?
    /// From the module's lowest mapped address for file regions, from the region start otherwise.
    public let offset: UInt64

    public var description: String { "\(name)+\(hex(offset))" }
}

/// What a word value most likely is, for someone reading a histogram.
public enum WordClass: Sendable, Hashable {
    case zero
    case small
    case pointer(PointerTarget)
    case text(String)
    case magic

    /// A stable key for JSON: `zero`, `small`, `pointer`, `text`, `magic`.
    public var kind: String {
        switch self {
        case .zero: return "zero"
        case .small: return "small"
        case .pointer: return "pointer"
        case .text: return "text"
        case .magic: return "magic"
        }
    }

    public var name: String {
        switch self {
        case .zero: return "zero"
        case .small: return "small integer"
        case .pointer: return "pointer"
        case .text: return "text"
        case .magic: return "possible magic"
        }
    }

    /// `pointer to heap+0x1a0`, `text "abcd"`.
    public var description: String {
        switch self {
        case .pointer(let target): return "pointer to \(target.description)"
        case .text(let text): return "text \"\(text)\""
        default: return name
        }
    }
}
