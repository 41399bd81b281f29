import Allocators
import Synchronization

/// The container role of each allocation as the pointer scans saw it (a string's header, a
/// vector's, a deque's), four bits per allocation, raised atomically by the mark workers and
/// the "referenced at all" pass. Raising keeps the higher role, so the result is the same in
/// whatever order the workers meet the headers.
final class ContainerRoles: @unchecked Sendable {
    private let memory: BulkMemory
    private let words: UnsafeMutablePointer<Atomic<UInt64>>
    private let wordCount: Int

    init(count: Int, inFile: Bool = false) {
        wordCount = max(1, (count + 15) / 16)
        (memory, words) = zeroedAtomicWords(wordCount, inFile: inFile)
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
