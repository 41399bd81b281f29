import ELFCore

/// Whether a word could be an identifying value (a magic), rather than data that repeats for
/// other reasons: zero, small integers, pointers into mapped memory, text.
enum ValueKind {
    static let smallLimit: UInt64 = 65536

    static func isMagicCandidate(_ value: UInt64, width: Int, memory: AddressSpace) -> Bool {
        guard value >= smallLimit else { return false }
        if width == 8 {
            if memory.segment(containing: value) != nil { return false }
            // Negative small integers (-1, -2 …) repeat everywhere.
            if value >= UInt64.max - smallLimit { return false }
        } else if value >= UInt64(UInt32.max) - smallLimit {
            return false
        }
        return !looksLikeText(value, width: width)
    }

    /// True when every byte is printable ASCII or NUL and at least half are printable.
    static func looksLikeText(_ value: UInt64, width: Int) -> Bool {
        var printable = 0
        for index in 0..<width {
            let byte = UInt8(truncatingIfNeeded: value >> UInt64(index * 8))
            if byte == 0 { continue }
            guard byte >= 0x20 && byte < 0x7f || byte == 0x09 || byte == 0x0a else { return false }
            printable += 1
        }
        return printable * 2 >= width
    }
}
