import ELFCore
import ScanKernels

/// Whether a word could be an identifying value (a magic), rather than data that repeats for
/// other reasons: zero, small integers, pointers into mapped memory, text. The zero, small and
/// text rules are the same ones `words` classifies by.
enum ValueKind {
    static func isMagicCandidate(_ value: UInt64, width: Int, memory: AddressSpace) -> Bool {
        guard value != 0, !WordClassifier.isSmall(value, width: width), !WordClassifier.isText(value, width: width) else {
            return false
        }
        return width != 8 || memory.segment(containing: value) == nil
    }
}
