import Allocators
import ELFCore

/// Whether a used allocation is kept alive, in chap's terms.
public enum Liveness: String, Sendable, Codable {
    /// Reachable from a root through a chain of pointers (start or interior).
    case anchored
    /// Not reachable from any root, but some other unreachable memory points to it.
    case leaked
    /// Not reachable, and no aligned word anywhere in roots or used allocations points to it.
    case unreferenced

    public var isLeaked: Bool { self != .anchored }
}

/// Conservative mark phase over the allocation table: every aligned 8-byte word in the roots
/// and in marked allocations that points into a used allocation marks it. Memory use is a few
/// bits per allocation plus the work list.
public struct Reachability: Sendable {
    public let table: AllocationTable
    private let anchored: BitSet
    private let referenced: BitSet
    /// For each anchored allocation, how it was first reached (for `explain`).
    private let parents: [Reference]

    /// Where a pointer to an allocation was found.
    public struct Reference: Sendable {
        /// Index of the allocation holding the pointer, or -1 for a root.
        public let fromAllocation: Int32
        /// Index into the root set's ranges when `fromAllocation` is -1.
        public let rootIndex: Int32
        /// Address of the word holding the pointer (register index for register roots).
        public let location: UInt64

        static let none = Reference(fromAllocation: -2, rootIndex: -1, location: 0)
        var isSet: Bool { fromAllocation != -2 }
    }

    public init(table: AllocationTable, roots: RootSet, memory: AddressSpace) {
        self.table = table
        let allocations = table.allocations
        let count = allocations.count
        var anchored = BitSet(count: count)
        var parents = [Reference](repeating: .none, count: count)
        var work: [Int32] = []
        let lowest = allocations.first?.address ?? 0
        let highest = allocations.map(\.end).max() ?? 0

        func visit(_ words: UnsafeRawBufferPointer, base: UInt64, from: Int32, root: Int32) {
            let wordCount = words.count / 8
            for slot in 0..<wordCount {
                let value = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
                guard value >= lowest && value < highest else { continue }
                guard let index = table.index(containing: value), allocations[index].isUsed else { continue }
                if anchored.insert(index) {
                    parents[index] = Reference(fromAllocation: from, rootIndex: root, location: base &+ UInt64(slot * 8))
                    work.append(Int32(index))
                }
            }
        }

        for (rootIndex, range) in roots.ranges.enumerated() {
            let skip = Int((8 - range.start % 8) % 8)
            guard range.bytes.count > skip else { continue }
            let aligned = UnsafeRawBufferPointer(rebasing: range.bytes[skip...])
            visit(aligned, base: range.kind == .register ? 0 : range.start + UInt64(skip), from: -1, root: Int32(rootIndex))
        }
        while let next = work.popLast() {
            let allocation = allocations[Int(next)]
            guard let segment = memory.segment(containing: allocation.address),
                  let words = segment.view(at: allocation.address,
                                           count: Int(min(allocation.usableSize, segment.presentEnd &- allocation.address)))
            else { continue }
            visit(words, base: allocation.address, from: next, root: -1)
        }

        // Referenced at all: any pointer from roots or from any used allocation, anchored or not.
        var referenced = anchored
        for allocation in allocations where allocation.isUsed {
            guard let segment = memory.segment(containing: allocation.address),
                  let words = segment.view(at: allocation.address,
                                           count: Int(min(allocation.usableSize, segment.presentEnd &- allocation.address)))
            else { continue }
            let wordCount = words.count / 8
            for slot in 0..<wordCount {
                let value = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
                guard value >= lowest && value < highest else { continue }
                guard let index = table.index(containing: value), allocations[index].isUsed,
                      !allocation.contains(value) else { continue }
                referenced.insert(index)
            }
        }
        self.anchored = anchored
        self.referenced = referenced
        self.parents = parents
    }

    /// Liveness of the allocation at `index`; nil for free allocations.
    public func liveness(ofAllocationAt index: Int) -> Liveness? {
        guard table.allocations[index].isUsed else { return nil }
        if anchored.contains(index) { return .anchored }
        return referenced.contains(index) ? .leaked : .unreferenced
    }

    public func reference(toAllocationAt index: Int) -> Reference? {
        let parent = parents[index]
        return parent.isSet ? parent : nil
    }

    public var anchoredCount: Int { anchored.population }
}
