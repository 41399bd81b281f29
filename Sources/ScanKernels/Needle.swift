import ELFCore

/// One thing `find` looks for: the exact bytes as they sit in memory, and the alignment their
/// start address must have (1 for byte strings and for unaligned searches).
public struct Needle: Sendable, Hashable {
    public let bytes: [UInt8]
    public let alignment: Int
    /// How the user wrote it, for output: `0xa11c0de5` or `"text"`.
    public let label: String
    /// Width in bytes when the needle is an integer value, nil for a byte string.
    public let width: Int?

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case notANumber(String)
        case badWidth(Int)
        case tooWide(String, width: Int)
        case emptyString
        case tooLong(Int)
        case badEscape(String)

        public var description: String {
            switch self {
            case .notANumber(let text):
                return "'\(text)' is not a number (use 0x1234abcd or decimal, or --string TEXT)"
            case .badWidth(let width):
                return "width \(width) is not one of 1, 2, 4, 8"
            case .tooWide(let text, let width):
                return "value \(text) does not fit in \(width) byte\(width == 1 ? "" : "s")"
            case .emptyString:
                return "empty --string"
            case .tooLong(let length):
                return "a needle of \(length) bytes is longer than the \(Needle.maxLength) bytes find supports"
            case .badEscape(let text):
                return "bad escape in '\(text)' (use \\0, \\n, \\t, \\r, \\\\ or \\xHH)"
            }
        }
    }

    public static let widths = [1, 2, 4, 8]
    public static let maxLength = 4096

    public init(bytes: [UInt8], alignment: Int, label: String, width: Int?) {
        self.bytes = bytes
        self.alignment = alignment
        self.label = label
        self.width = width
    }

    /// gdb's rule for an integer literal without a size letter: it is an `int` (4 bytes) when it
    /// fits in 32 bits, else a `long` (8 bytes). Negative values: 4 bytes down to -2^31.
    public static func defaultWidth(for value: UInt64, negative: Bool) -> Int {
        if negative { return value <= 0x8000_0000 ? 4 : 8 }
        return value <= UInt64(UInt32.max) ? 4 : 8
    }

    /// An integer in the process's byte order (little-endian), `width` bytes, aligned to its width.
    public static func value(_ value: UInt64, width: Int, label: String? = nil) throws -> Needle {
        guard widths.contains(width) else { throw ParseError.badWidth(width) }
        guard width == 8 || value >> UInt64(width * 8) == 0 else {
            throw ParseError.tooWide(label ?? hex(value), width: width)
        }
        let bytes = withUnsafeBytes(of: value.littleEndian) { Array($0.prefix(width)) }
        return Needle(bytes: bytes, alignment: width, label: label ?? hex(value), width: width)
    }

    /// Parses `0x1234abcd`, `4660` or `-1` (two's complement in the width). Without a width,
    /// gdb's int/long rule picks it (see `defaultWidth`).
    public static func parse(_ text: String, width: Int?) throws -> Needle {
        let trimmed = text.trimmingSpaces()
        var digits = Substring(trimmed)
        let negative = digits.hasPrefix("-")
        if negative { digits = digits.dropFirst() }
        let magnitude: UInt64?
        if digits.lowercased().hasPrefix("0x") {
            magnitude = UInt64(digits.dropFirst(2), radix: 16)
        } else {
            magnitude = UInt64(digits, radix: 10)
        }
        guard let magnitude, !digits.isEmpty else { throw ParseError.notANumber(text) }
        let chosen = width ?? defaultWidth(for: magnitude, negative: negative)
        guard widths.contains(chosen) else { throw ParseError.badWidth(chosen) }
        guard negative else { return try value(magnitude, width: chosen, label: trimmed) }
        let bits = UInt64(chosen * 8)
        let limit: UInt64 = 1 << (bits - 1)
        guard magnitude <= limit else { throw ParseError.tooWide(trimmed, width: chosen) }
        let mask: UInt64 = chosen == 8 ? .max : (1 << bits) - 1
        return try value((0 &- magnitude) & mask, width: chosen, label: trimmed)
    }

    /// A byte string, matched at every offset. Escapes: `\0 \n \t \r \\ \xHH`. gdb's `"TEXT"`
    /// includes its terminating NUL, so `TEXT\0` is the same search.
    public static func string(_ text: String) throws -> Needle {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            guard byte == UInt8(ascii: "\\") else { bytes.append(byte); continue }
            guard let code = input.popFirst() else { throw ParseError.badEscape(text) }
            switch code {
            case UInt8(ascii: "0"): bytes.append(0)
            case UInt8(ascii: "n"): bytes.append(10)
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "r"): bytes.append(13)
            case UInt8(ascii: "\\"): bytes.append(code)
            case UInt8(ascii: "x"):
                guard input.count >= 2, let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) else {
                    throw ParseError.badEscape(text)
                }
                bytes.append(value)
                input = input.dropFirst(2)
            default: throw ParseError.badEscape(text)
            }
        }
        guard !bytes.isEmpty else { throw ParseError.emptyString }
        guard bytes.count <= maxLength else { throw ParseError.tooLong(bytes.count) }
        return Needle(bytes: bytes, alignment: 1, label: "\"\(text)\"", width: nil)
    }

    /// The same bytes, matched at every byte offset (gdb's behaviour).
    public var unaligned: Needle { Needle(bytes: bytes, alignment: 1, label: label, width: width) }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
