/// Which memory a scan covers: a set of labels and optionally one address range.
/// Parsed from the `--regions` and `--range` options every scan command takes.
public struct RegionSelection: Sendable, Equatable {
    public var labels: Set<RegionLabel>
    /// Half-open `[start, end)`.
    public var range: (start: UInt64, end: UInt64)?

    public init(labels: Set<RegionLabel>, range: (start: UInt64, end: UInt64)? = nil) {
        self.labels = labels
        self.range = range
    }

    public static let heapOnly = RegionSelection(labels: [.heap])

    public static func == (lhs: RegionSelection, rhs: RegionSelection) -> Bool {
        lhs.labels == rhs.labels && lhs.range?.start == rhs.range?.start && lhs.range?.end == rhs.range?.end
    }

    public enum ParseError: Error, CustomStringConvertible {
        case unknownLabel(String)
        case empty
        case badRange(String)

        public var description: String {
            switch self {
            case .unknownLabel(let name):
                return "unknown region '\(name)' (use heap, stack, file, vdso, vsyscall, other, all)"
            case .empty:
                return "empty region selection"
            case .badRange(let text):
                return "bad range '\(text)' (use START-END or START,+LENGTH, e.g. 0x1000-0x2000)"
            }
        }
    }

    /// `heap,stack`, `all`. Labels are case-insensitive.
    public static func parseLabels(_ text: String) throws -> Set<RegionLabel> {
        var labels = Set<RegionLabel>()
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let name = part.trimmingCharacters().lowercased()
            if name == "all" {
                labels.formUnion(RegionLabel.allCases)
            } else if let label = RegionLabel(rawValue: name) {
                labels.insert(label)
            } else {
                throw ParseError.unknownLabel(String(part))
            }
        }
        guard !labels.isEmpty else { throw ParseError.empty }
        return labels
    }

    /// `START-END` (end exclusive) or gdb's `START,+LENGTH`; numbers in hex (0x) or decimal.
    public static func parseRange(_ text: String) throws -> (start: UInt64, end: UInt64) {
        let trimmed = text.trimmingCharacters()
        if let comma = trimmed.firstIndex(of: ",") {
            let startText = trimmed[..<comma]
            var lengthText = trimmed[trimmed.index(after: comma)...].trimmingCharacters()
            if lengthText.hasPrefix("+") { lengthText.removeFirst() }
            guard let start = parseNumber(String(startText)), let length = parseNumber(lengthText), length > 0 else {
                throw ParseError.badRange(text)
            }
            let (end, overflow) = start.addingReportingOverflow(length)
            guard !overflow else { throw ParseError.badRange(text) }
            return (start, end)
        }
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = parseNumber(String(parts[0])), let end = parseNumber(String(parts[1])),
              start < end else { throw ParseError.badRange(text) }
        return (start, end)
    }

    /// `0x1f`, `31`; nil for anything else.
    public static func parseNumber(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters()
        if trimmed.lowercased().hasPrefix("0x") {
            return UInt64(trimmed.dropFirst(2), radix: 16)
        }
        return UInt64(trimmed, radix: 10)
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
