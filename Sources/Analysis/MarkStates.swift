import Allocators
import Synchronization

/// How much of an allocation the mark phase must scan, as far as the pointers seen so far say.
/// The states form a lattice (unreached < characters, limited < whole; characters ⊔ limited =
/// whole), and an allocation only ever moves up it, so the marked set and the scanned bytes are
/// the same whatever order the workers find pointers in.
enum BlockState: UInt64 {
    case unreached = 0
    /// Reached only as a `std::string`'s heap buffer: characters, never scanned.
    case characters = 1
    /// Reached only as a container's buffer (a vector's, a deque's map or block), scanned over its
    /// live range, not its spare capacity or popped slots; or only through pointers declared to
    /// point to one struct, scanned through that struct's layout (`LimitedViews`).
    case limited = 2
    /// Reached through any other pointer: scanned whole (through its layout when typed).
    case whole = 3

    func joined(with other: BlockState) -> BlockState {
        if self == other || other == .unreached { return self }
        if self == .unreached { return other }
        return .whole
    }
}

/// Two bits per allocation, raised atomically by the mark workers: the only shared mark state,
/// a quarter byte per allocation.
/// In a file mapping beside a table that is in one (`BulkMemory` pages start zero).
final class MarkStates: @unchecked Sendable {
    private let memory: BulkMemory
    private let words: UnsafeMutablePointer<Atomic<UInt64>>
    private let wordCount: Int
    let count: Int

    init(count: Int, inFile: Bool = false) {
        self.count = count
        wordCount = (count + 31) / 32
        (memory, words) = zeroedAtomicWords(max(1, wordCount), inFile: inFile)
    }

    @inline(__always)
    func state(_ index: Int) -> BlockState {
        let word = words[index >> 5].load(ordering: .relaxed)
        return BlockState(rawValue: (word >> UInt64((index & 31) << 1)) & 3)!
    }

    /// Moves `index` up to at least `target`; returns the state it had, or nil when it already
    /// was there (nothing changed).
    @inline(__always)
    func raise(_ index: Int, to target: BlockState) -> BlockState? {
        let shift = UInt64((index & 31) << 1)
        var current = words[index >> 5].load(ordering: .relaxed)
        while true {
            let old = BlockState(rawValue: (current >> shift) & 3)!
            let new = old.joined(with: target)
            if new == old { return nil }
            let desired = (current & ~(3 << shift)) | (new.rawValue << shift)
            let (exchanged, original) = words[index >> 5].compareExchange(
                expected: current, desired: desired, ordering: .relaxed)
            if exchanged { return old }
            current = original
        }
    }

    var reachedCount: Int {
        var total = 0
        for index in 0..<wordCount {
            let word = words[index].load(ordering: .relaxed)
            // A state is reached when either of its two bits is set.
            total += ((word | (word >> 1)) & 0x5555_5555_5555_5555).nonzeroBitCount
        }
        return total
    }
}

/// One bit per allocation, set atomically (the "referenced at all" pass).
final class AtomicBits: @unchecked Sendable {
    private let memory: BulkMemory
    private let words: UnsafeMutablePointer<Atomic<UInt64>>
    private let wordCount: Int

    init(count: Int, inFile: Bool = false) {
        wordCount = max(1, (count + 63) / 64)
        (memory, words) = zeroedAtomicWords(wordCount, inFile: inFile)
    }

    @inline(__always)
    func insert(_ index: Int) {
        let mask: UInt64 = 1 << UInt64(index & 63)
        if words[index >> 6].load(ordering: .relaxed) & mask == 0 {
            words[index >> 6].bitwiseOr(mask, ordering: .relaxed)
        }
    }

    func contains(_ index: Int) -> Bool {
        words[index >> 6].load(ordering: .relaxed) & (1 << UInt64(index & 63)) != 0
    }
}

/// `count` atomic words, all zero, in memory that lives as long as the returned `BulkMemory`.
func zeroedAtomicWords(_ count: Int, inFile: Bool) -> (BulkMemory, UnsafeMutablePointer<Atomic<UInt64>>) {
    let memory = BulkMemory(byteCount: count * MemoryLayout<Atomic<UInt64>>.stride, inFile: inFile)
    let words = memory.base.bindMemory(to: Atomic<UInt64>.self, capacity: count)
    for index in 0..<count { (words + index).initialize(to: Atomic<UInt64>(0)) }
    return (memory, words)
}
