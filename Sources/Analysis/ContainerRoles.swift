import Allocators
import ELFCore
import Synchronization

/// The container role of each allocation as the pointer scans saw it (a string's header, a
/// vector's, a deque's), four bits per allocation, raised atomically by the mark workers and
/// the "referenced at all" pass. Raising keeps the higher role, so the result is the same in
/// whatever order the workers meet the headers.
/// A class, so the hot loops that note every hit hold one reference and copy no struct of
/// references per pointer.
final class ContainerRoles: @unchecked Sendable {
    private let storage: BulkMemory
    private let words: UnsafeMutablePointer<Atomic<UInt64>>
    private let wordCount: Int
    private let allocations: UnsafeBufferPointer<Allocation>
    private let lookup: AllocationLookup
    private let memory: AddressSpace

    init(allocations: UnsafeBufferPointer<Allocation>, lookup: AllocationLookup, memory: AddressSpace, inFile: Bool = false) {
        self.allocations = allocations
        self.lookup = lookup
        self.memory = memory
        wordCount = max(1, (allocations.count + 15) / 16)
        (storage, words) = zeroedAtomicWords(wordCount, inFile: inFile)
    }

    /// What a hit says about its target.
    enum Note {
        case nothing
        /// The word is a vector's finish or end, not a pointer to the block it names.
        case vectorTail
        case buffer(PointerScanner.BufferShape)
    }

    /// Raises the role the hit at `slot` gives `target` (a deque part's, a string's
    /// characters, a vector's buffer) and says what it found.
    @inline(__always)
    func note(_ words: UnsafeRawBufferPointer, slot: Int, value: UInt64, target: Int, evidence: PointerScanner.Evidence) -> Note {
        switch evidence {
        case let .live(_, _, role):
            raise(target, to: role)
            return .nothing
        case .word, .member:
            guard let buffer = PointerScanner.bufferShape(words, slot: slot, value: value, target: allocations[target],
                                                          memory: memory) else { return .nothing }
            if PointerScanner.isVectorTail(words, slot: slot, value: value, lookup: lookup, allocations: allocations) {
                return .vectorTail
            }
            raise(target, to: buffer.role)
            return .buffer(buffer)
        }
    }

    @inline(__always)
    func role(_ index: Int) -> ContainerRole {
        let word = words[index >> 4].load(ordering: .relaxed)
        return ContainerRole(rawValue: UInt8((word >> UInt64((index & 15) << 2)) & 15)) ?? .none
    }

    @inline(__always)
    func raise(_ index: Int, to role: ContainerRole) {
        let shift = UInt64((index & 15) << 2)
        var current = words[index >> 4].load(ordering: .relaxed)
        while (current >> shift) & 15 < UInt64(role.rawValue) {
            let desired = (current & ~(15 << shift)) | (UInt64(role.rawValue) << shift)
            let (exchanged, original) = words[index >> 4].compareExchange(expected: current, desired: desired, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}
