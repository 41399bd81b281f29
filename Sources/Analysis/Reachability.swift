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
public final class Reachability: @unchecked Sendable {
    public let table: AllocationTable
    private let states: MarkStates
    /// Pointed to by any root or used allocation.
    private let referenced: AtomicBits
    private let components: LeakComponents
    private let loop: MarkLoop
    /// The mark's pointer lookup, kept for the classifier's container shapes (about 1% of
    /// the heap's size; building it again costs as much as keeping it).
    let lookup: AllocationLookup

    /// Where a pointer to an allocation was found.
    /// 16 bytes, as `explain` keeps one per allocation: the holder's index is 32 bits unsigned
    /// (4 G allocations) and `rootIndex` tells roots, allocations and "not reached" apart.
    public struct Reference: Sendable {
        private let holder: UInt32
        /// Index into the root set's ranges; -1 when an allocation holds the pointer.
        public let rootIndex: Int32
        /// Address of the word holding the pointer (register index × 8 for register roots).
        public let location: UInt64
        /// How the mark phase knew that word for a pointer.
        public let edge: EdgeKind

        init(fromAllocation index: Int, location: UInt64, edge: EdgeKind) {
            holder = UInt32(index)
            rootIndex = -1
            self.location = location
            self.edge = edge
        }

        init(rootIndex: Int32, location: UInt64, edge: EdgeKind) {
            holder = 0
            self.rootIndex = rootIndex
            self.location = location
            self.edge = edge
        }

        /// Index of the allocation holding the pointer, or -1 for a root.
        public var fromAllocation: Int { rootIndex == -1 ? Int(holder) : -1 }

        static let none = Reference(rootIndex: -2, location: 0, edge: .conservative)
        var isSet: Bool { rootIndex != -2 }
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
            var index = allocations.firstIndex(keyAtLeast: range.lowerBound, key: \.address)
            while index < count && allocations[index].address < range.upperBound {
                allocatorOwned.insert(index)
                index += 1
            }
        }
        let lookup = AllocationLookup(allocations)
        self.lookup = lookup
        let inFile = allocations.isFileBacked
        let referenced = AtomicBits(count: count, inFile: inFile)
        var components: LeakComponents?
        // The scanner reads the table in place (a copy would cost 16 bytes an allocation); the
        // loop keeps only its states and parents once marking is done.
        self.loop = allocations.withUnsafeBufferPointer { table in
            let roles = ContainerRoles(allocations: table, lookup: lookup, memory: memory, inFile: inFile)
            let scanner = PointerScanner(allocations: table, lookup: lookup, used: used, allocatorOwned: allocatorOwned,
                                         memory: memory, layouts: layouts, roles: roles)
            let pieces = Self.pieces(of: roots)
            let claims = layouts.isEmpty ? nil : TypeClaims()
            var loop = MarkLoop(scanner: scanner, recordChains: recordChains, inFile: inFile, claims: claims)
            loop.run(roots: pieces)
            // A second mark when declared pointers typed anything: the first one scanned those
            // allocations whole wherever a register, stack or interior word reached them too.
            if let claims, !claims.isEmpty {
                loop = MarkLoop(scanner: scanner, recordChains: recordChains, inFile: inFile, settledTypes: claims.settled())
                loop.run(roots: pieces)
            }
            Self.findReferences(scanner: scanner, states: loop.states, roots: referenceRoots.map(Self.pieces(of:)) ?? [],
                                into: referenced)
            var candidates: [UInt32] = []
            for index in 0..<count where used.contains(index) && loop.states.state(index) == .unreached
                && referenced.contains(index) {
                candidates.append(UInt32(index))
            }
            var hint = -1
            var shape = LeakComponents(count: count, candidates: candidates) { index, body in
                scanner.scanAllocation(index, state: .whole, view: .nothing, hint: &hint) { _, _, _, target, _ in
                    if referenced.contains(target) && loop.states.state(target) == .unreached { body(target) }
                }
            }
            if shape.hasCycles {
                // A cycle an unreferenced leaked allocation points into was lost through that one.
                for index in 0..<count where used.contains(index) && loop.states.state(index) == .unreached
                    && !referenced.contains(index) {
                    scanner.scanAllocation(index, state: .whole, view: .nothing, hint: &hint) { _, _, _, target, _ in
                        if shape.inCycles.contains(target) { shape.pointedToFromOutside(target) }
                    }
                }
                shape.finish()
            }
            components = shape
            return loop
        }
        states = loop.states
        self.referenced = referenced
        self.components = components!
    }

    /// Referenced at all: a pointer from any root or any used allocation, anchored or not, to an
    /// allocation the mark phase did not reach. Allocations are handed out in blocks by index.
    private static func findReferences(scanner: PointerScanner, states: MarkStates, roots: [MarkLoop.RootPiece],
                                       into referenced: AtomicBits) {
        let blockSize = 4096
        let count = scanner.allocations.count
        let blocks = (count + blockSize - 1) / blockSize
        let next = Atomic<Int>(0)
        let total = roots.count + blocks
        let workers = max(1, min(ParallelScan.defaultThreadCount, total))
        let progress = ProgressLine(total: UInt64(count), label: "looking through leaked allocations", unit: .allocations)
        defer { progress.finish() }
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var hint = -1
            let roles = scanner.roles
            // Unowned: the compiler passes a closure's captures to the scanner's specialised
            // copies as arguments and retains each one per scanned allocation; these outlive
            // the loop (the scanner and the caller hold them).
            let note: PointerScanner.Hit = { [unowned(unsafe) states, unowned(unsafe) referenced, unowned(unsafe) roles]
                words, slot, value, target, evidence in
                guard states.state(target) == .unreached else { return }
                referenced.insert(target)
                _ = roles.note(words, slot: slot, value: value, target: target, evidence: evidence)
            }
            while true {
                let position = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard position < total else { return }
                if position < roots.count {
                    scanner.scanWords(roots[position].words, base: roots[position].base, from: -1, onHit: note)
                    continue
                }
                let first = (position - roots.count) * blockSize
                for index in first..<min(count, first + blockSize)
                where scanner.used.contains(index) && states.state(index) == .unreached {
                    scanner.scanAllocation(index, state: .whole, view: .nothing, hint: &hint, onHit: note)
                }
                progress.advance(UInt64(min(count, first + blockSize) - first))
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
        return referenced.contains(index) ? .leaked : .unreferenced
    }

    public func reference(toAllocationAt index: Int) -> Reference? {
        guard let parents = loop.parents else { return nil }
        let parent = parents[index]
        return parent.isSet ? parent : nil
    }

    public var anchoredCount: Int { states.reachedCount }

    /// What the allocation at `index` is to the container whose header points at it (a string's,
    /// a vector's, a deque's), as the scans of roots and used allocations saw it.
    public func containerRole(ofAllocationAt index: Int) -> ContainerRole { loop.scanner.roles.role(index) }

    /// How the mark phase scanned allocation `index`: its state and, when limited, its view.
    func markState(ofAllocationAt index: Int) -> (state: BlockState, view: LimitedViews.View?) {
        let state = states.state(index)
        return (state, state == .limited ? loop.views.view(index) : nil)
    }

    /// A leaked allocation where the program lost its objects: no other leaked allocation points
    /// to it, or it stands for a cycle of leaked allocations nothing else points to.
    public func isLeakRoot(_ index: Int) -> Bool {
        guard table.allocations[index].isUsed, states.state(index) == .unreached else { return false }
        return !referenced.contains(index) || components.cycleRoots.contains(index)
    }

    /// A leaked allocation kept alive only by a cycle of leaked allocations (e.g. shared_ptr).
    public func isInLeakedCycle(_ index: Int) -> Bool { components.inCycles.contains(index) }

    /// Allocations pushed on the mark work list: each reached allocation once, plus a rescan
    /// when a vector buffer's limit grows or a buffer is reached as something else.
    public var markPushes: Int { loop.pushes }
}
