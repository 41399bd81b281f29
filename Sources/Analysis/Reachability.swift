import Allocators
import Dispatch
import ELFCore
import ScanKernels
import Symbols
import Synchronization

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

/// The mark phase over the allocation table: every word that can hold a live pointer, in the
/// roots and in reached allocations, that points into a used allocation reaches it. Which words
/// can hold one is the scanner's rule (`PointerScanner`): typed objects through their layout,
/// string buffers never, vector buffers up to their finish, short strings' local buffers never,
/// everything else conservatively. The marking is a work list (`MarkLoop`), linear in what it
/// visits. Memory: two bits per allocation for the marks and one for "referenced", plus the
/// parent of each reached allocation when chains are wanted (`explain`).
public struct Reachability: @unchecked Sendable {
    public let table: AllocationTable
    private let states: MarkStates
    /// Pointed to from a root the chosen kinds left out.
    private let referencedByRoots: AtomicBits
    private let components: LeakComponents
    private let loop: MarkLoop

    /// Where a pointer to an allocation was found.
    public struct Reference: Sendable {
        /// Index of the allocation holding the pointer, or -1 for a root.
        public let fromAllocation: Int32
        /// Index into the root set's ranges when `fromAllocation` is -1.
        public let rootIndex: Int32
        /// Address of the word holding the pointer (register index × 8 for register roots).
        public let location: UInt64

        static let none = Reference(fromAllocation: -2, rootIndex: -1, location: 0)
        var isSet: Bool { fromAllocation != -2 }
    }

    /// `referenceRoots` (all root kinds, when `roots` is a subset) are looked through too when
    /// deciding whether anything at all points to a leaked allocation.
    public init(table: AllocationTable, roots: RootSet, memory: AddressSpace, recordChains: Bool = true,
                referenceRoots: RootSet? = nil, layouts: TypedLayouts = .none) {
        self.table = table
        let allocations = table.allocations
        let count = allocations.count
        var used = BitSet(count: count)
        for index in allocations.indices where allocations[index].isUsed { used.insert(index) }
        var allocatorOwned = BitSet(count: count)
        for range in table.allocatorState {
            var index = allocations.firstIndex(atOrAfter: range.lowerBound)
            while index < count && allocations[index].address < range.upperBound {
                allocatorOwned.insert(index)
                index += 1
            }
        }
        let lookup = AllocationLookup(allocations)
        let referenced = AtomicBits(count: count)
        var components: LeakComponents?
        // The scanner reads the table in place (a copy would cost 24 bytes an allocation); the
        // loop keeps only its states and parents once marking is done.
        self.loop = allocations.withUnsafeBufferPointer { table in
            let scanner = PointerScanner(allocations: table, lookup: lookup, used: used, allocatorOwned: allocatorOwned,
                                         memory: memory, layouts: layouts)
            let loop = MarkLoop(scanner: scanner, recordChains: recordChains)
            loop.run(roots: Self.pieces(of: roots))
            Self.findReferences(scanner: scanner, states: loop.states, roots: referenceRoots.map(Self.pieces(of:)) ?? [],
                                into: referenced)
            var leaked: [Int32] = []
            for index in 0..<count where used.contains(index) && loop.states.state(index) == .unreached {
                leaked.append(Int32(index))
            }
            var hint = -1
            components = LeakComponents(count: count, leaked: leaked) { index, body in
                scanner.scanAllocation(index, state: .whole, limit: 0, hint: &hint) { _, _, _, target in
                    if loop.states.state(target) == .unreached { body(target) }
                }
            }
            return loop
        }
        states = loop.states
        referencedByRoots = referenced
        self.components = components!
    }

    /// Leaked allocations a root of a kind left out points to (`--roots` chose fewer kinds).
    private static func findReferences(scanner: PointerScanner, states: MarkStates, roots: [MarkLoop.RootPiece],
                                       into referenced: AtomicBits) {
        guard !roots.isEmpty else { return }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: max(1, min(ParallelScan.defaultThreadCount, roots.count))) { _ in
            while true {
                let position = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard position < roots.count else { return }
                scanner.scanWords(roots[position].words, base: roots[position].base, from: -1) { _, _, _, target in
                    if states.state(target) == .unreached { referenced.insert(target) }
                }
            }
        }
    }

    /// Root ranges cut into pieces the workers can share, each starting on a word boundary.
    private static func pieces(of roots: RootSet) -> [MarkLoop.RootPiece] {
        var pieces: [MarkLoop.RootPiece] = []
        for (rootIndex, range) in roots.ranges.enumerated() {
            let skip = Int((8 - range.start % 8) % 8)
            guard range.bytes.count > skip else { continue }
            var offset = skip
            while offset < range.bytes.count {
                let end = min(range.bytes.count, offset + MarkLoop.pieceBytes)
                let base = range.kind == .register ? 0 : range.start + UInt64(offset)
                pieces.append(MarkLoop.RootPiece(words: UnsafeRawBufferPointer(rebasing: range.bytes[offset..<end]),
                                                 base: base, rootIndex: Int32(rootIndex)))
                offset = end
            }
        }
        return pieces
    }

    /// Liveness of the allocation at `index`; nil for free allocations.
    public func liveness(ofAllocationAt index: Int) -> Liveness? {
        guard table.allocations[index].isUsed else { return nil }
        if states.state(index) != .unreached { return .anchored }
        return referencedByRoots.contains(index) || components.referenced.contains(index) ? .leaked : .unreferenced
    }

    public func reference(toAllocationAt index: Int) -> Reference? {
        guard let parents = loop.parents else { return nil }
        let parent = parents[index]
        return parent.isSet ? parent : nil
    }

    public var anchoredCount: Int { states.reachedCount }

    /// A leaked allocation where the program lost its objects: no other leaked allocation points
    /// to it, or it stands for a cycle of leaked allocations nothing else points to.
    public func isLeakRoot(_ index: Int) -> Bool { components.roots.contains(index) }

    /// A leaked allocation kept alive only by a cycle of leaked allocations (e.g. shared_ptr).
    public func isInLeakedCycle(_ index: Int) -> Bool { components.inCycles.contains(index) }

    /// Allocations pushed on the mark work list: each reached allocation once, plus a rescan
    /// when a vector buffer's limit grows or a buffer is reached as something else.
    public var markPushes: Int { loop.pushes }
}

extension Array where Element == Allocation {
    /// Index of the first allocation starting at or after `address` (count when none), O(log n).
    func firstIndex(atOrAfter address: UInt64) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) >> 1
            if self[middle].address < address { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
