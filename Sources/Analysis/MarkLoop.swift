import Allocators
import Dispatch
import ELFCore
import ScanKernels
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The mark phase as a work list: each worker scans root pieces, then pops allocations from its
/// own stack, pushing each allocation when its state first rises (and again only when a vector
/// buffer's limit grows or a buffer turns out to be more than a buffer). Work is shared through a
/// pool of chunks when a worker runs dry, so a 10 M-node list costs what 10 M objects hung off one
/// array cost: every allocation is scanned a bounded number of times, never once per wave.
final class MarkLoop: @unchecked Sendable {
    /// A piece of root memory (a register file, a stack, module data) no larger than `pieceBytes`.
    struct RootPiece {
        let words: UnsafeRawBufferPointer
        /// Address of the first word; 0 for registers (their location is the register index × 8).
        let base: UInt64
        let rootIndex: Int32
    }

    static let pieceBytes = 1 << 20
    private static let chunkSize = 1024

    let scanner: PointerScanner
    let states: MarkStates
    let views = LimitedViews()
    /// How each allocation was first reached; nil unless chains are recorded.
    let parents: UnsafeMutableBufferPointer<Reachability.Reference>?
    private let parentMemory: BulkMemory?
    private let pool = Mutex<[[UInt32]]>([])
    private let pooled = Atomic<Int>(0)
    /// Workers holding work (scanning roots or a stack); a worker that has not started yet is
    /// not counted, since concurrentPerform may run the workers one after another.
    private let busy = Atomic<Int>(0)
    /// Workers waiting for a pooled chunk: the sign for a busy worker to share.
    private let waiting = Atomic<Int>(0)
    private let nextRoot = Atomic<Int>(0)
    private let totalPushes = Atomic<Int>(0)
    private let progress: ProgressLine

    /// Types pointers declare, gathered (first mark) or applied (second mark).
    private let claims: TypeClaims?
    private let settledTypes: [Int: Int32]

    /// `inFile`: the mark state and parents go in a file mapping, as the table did. `claims`:
    /// gather the types declared pointers give; `settledTypes`: scan those allocations through
    /// their type however they are reached (see `TypeClaims`).
    init(scanner: PointerScanner, recordChains: Bool, inFile: Bool, claims: TypeClaims? = nil,
         settledTypes: [Int: Int32] = [:]) {
        self.scanner = scanner
        self.claims = claims
        self.settledTypes = settledTypes
        progress = ProgressLine(total: nil, label: settledTypes.isEmpty ? "marking" : "marking again through declared types",
                                unit: .allocations)
        let count = scanner.allocations.count
        states = MarkStates(count: count, inFile: inFile)
        if recordChains {
            let memory = BulkMemory(byteCount: count * MemoryLayout<Reachability.Reference>.stride, inFile: inFile)
            let parents = UnsafeMutableBufferPointer(
                start: memory.base.bindMemory(to: Reachability.Reference.self, capacity: count), count: count)
            parents.initialize(repeating: .none)
            self.parents = parents
            parentMemory = memory
        } else {
            parents = nil
            parentMemory = nil
        }
    }

    var pushes: Int { totalPushes.load(ordering: .relaxed) }

    /// Marks everything reachable from `roots`. With chains recorded, one worker goes breadth
    /// first, so each chain `explain` prints is a shortest one and the same on every run.
    func run(roots: [RootPiece]) {
        defer { progress.finish() }
        let workers = parents != nil ? 1 : max(1, ParallelScan.defaultThreadCount)
        if workers == 1 {
            work(roots: roots, workers: 1, breadthFirst: parents != nil)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                work(roots: roots, workers: workers, breadthFirst: false)
            }
        }
    }

    private func work(roots: [RootPiece], workers: Int, breadthFirst: Bool) {
        var stack: [UInt32] = []
        stack.reserveCapacity(Self.chunkSize * 4)
        var head = 0
        var pushes = 0
        var hint = -1
        var unreported: UInt64 = 0
        defer {
            totalPushes.wrappingAdd(pushes, ordering: .relaxed)
            progress.advance(unreported)
        }
        busy.wrappingAdd(1, ordering: .relaxed)
        let roles = scanner.roles

        func reach(_ target: Int, words: UnsafeRawBufferPointer, slot: Int, value: UInt64,
                   evidence found: PointerScanner.Evidence, from reference: (EdgeKind) -> Reachability.Reference) {
            let allocations = scanner.allocations
            if let claims, case let .member(pointee) = found, pointee >= 0, value == allocations[target].address,
               scanner.mayType(target, as: pointee) {
                claims.claim(target, as: pointee)
            }
            // Roles are noted whatever the target's state, so they do not depend on which pointer
            // a worker met first.
            var buffer: PointerScanner.BufferShape?
            switch roles.note(words, slot: slot, value: value, target: target, evidence: found) {
            case .vectorTail: return
            case let .buffer(shape): buffer = shape
            case .nothing: break
            }
            guard states.state(target) != .whole else { return }
            var evidence = BlockState.whole
            var edge = EdgeKind.recognised
            var claim = LimitedViews.Claim.unchanged
            switch found {
            case let .live(lo, hi, _):
                evidence = .limited
                claim = views.widen(target, lo: lo, hi: hi)
            case .word, .member:
                var pointee: Int32 = -1
                if case let .member(declared) = found {
                    edge = .precise
                    pointee = declared
                } else {
                    edge = .conservative
                }
                if buffer == nil && ContainerShapes.isVectorTail(words, slot: slot, value: value, allocationAt: { pointer in
                    let index = scanner.lookup.find(pointer)
                    return index >= 0 ? allocations[index] : nil
                }) { return }
                if value == allocations[target].address {
                    switch buffer {
                    case .characters?:
                        evidence = .characters
                        edge = .recognised
                    case let .vector(length)?:
                        evidence = .limited
                        edge = .recognised
                        claim = views.widen(target, lo: 0, hi: length, element: pointee)
                    case nil:
                        if pointee >= 0 && scanner.mayType(target, as: pointee) {
                            evidence = .limited
                            claim = views.type(target, as: pointee)
                        }
                    }
                } else if pointee >= 0 && !scanner.isConsistent(pointee, into: target, at: value &- allocations[target].address,
                                                                settledType: settledTypes[target] ?? -1) {
                    return
                }
                if evidence == .whole, !settledTypes.isEmpty, let settled = settledTypes[target] {
                    evidence = .limited
                    claim = views.type(target, as: settled)
                }
            }
            if claim == .conflict { evidence = .whole }
            guard let previous = states.raise(target, to: evidence) else {
                if claim == .grew && states.state(target) == .limited {
                    stack.append(UInt32(target))
                    pushes += 1
                }
                return
            }
            if previous == .unreached, let parents { parents[target] = reference(edge) }
            if previous.joined(with: evidence) != .characters {
                stack.append(UInt32(target))
                pushes += 1
            }
        }

        while true {
            let next = nextRoot.wrappingAdd(1, ordering: .relaxed).oldValue
            guard next < roots.count else { break }
            let root = roots[next]
            scanner.scanWords(root.words, base: root.base, from: -1) { words, slot, value, target, evidence in
                // Module data declared as a pointer to a struct types what it points to.
                var declared = evidence
                if evidence == .word, root.base != 0 {
                    let pointee = scanner.layouts.rootPointee(at: root.base &+ UInt64(slot &* 8))
                    if pointee >= 0 { declared = .member(pointee: pointee) }
                }
                reach(target, words: words, slot: slot, value: value, evidence: declared) { edge in
                    Reachability.Reference(rootIndex: root.rootIndex, location: root.base &+ UInt64(slot &* 8), edge: edge)
                }
            }
        }

        outer: while true {
            while head < stack.count {
                let item: Int
                if breadthFirst {
                    item = Int(stack[head])
                    head += 1
                    if head > 4096 && head * 2 > stack.count {
                        stack.removeFirst(head)
                        head = 0
                    }
                } else {
                    item = Int(stack.removeLast())
                }
                unreported += 1
                if unreported == 4096 {
                    progress.advance(unreported)
                    unreported = 0
                }
                let state = states.state(item)
                let view = state == .limited ? views.view(item) : LimitedViews.View.nothing
                let holder = scanner.allocations[item].address
                scanner.scanAllocation(item, state: state, view: view, hint: &hint) { words, slot, value, target, evidence in
                    reach(target, words: words, slot: slot, value: value, evidence: evidence) { edge in
                        Reachability.Reference(fromAllocation: item, location: holder &+ UInt64(slot &* 8), edge: edge)
                    }
                }
                if workers > 1 && stack.count > 2 * Self.chunkSize && pooled.load(ordering: .relaxed) == 0
                    && waiting.load(ordering: .relaxed) > 0 {
                    let shared = Array(stack[0..<Self.chunkSize])
                    stack.removeFirst(Self.chunkSize)
                    pool.withLock { $0.append(shared) }
                    pooled.wrappingAdd(1, ordering: .releasing)
                }
            }
            stack.removeAll(keepingCapacity: true)
            head = 0
            guard workers > 1 else {
                busy.wrappingSubtract(1, ordering: .relaxed)
                return
            }
            if let chunk = takeChunk() {
                stack = chunk
                continue
            }
            busy.wrappingSubtract(1, ordering: .relaxed)
            waiting.wrappingAdd(1, ordering: .relaxed)
            while true {
                if pooled.load(ordering: .acquiring) > 0 {
                    busy.wrappingAdd(1, ordering: .relaxed)
                    if let chunk = takeChunk() {
                        waiting.wrappingSubtract(1, ordering: .relaxed)
                        stack = chunk
                        continue outer
                    }
                    busy.wrappingSubtract(1, ordering: .relaxed)
                    continue
                }
                // Nobody holds work and nothing is pooled: no work can appear any more. A worker
                // that starts later finds the roots taken and the pool empty, and stops too.
                if busy.load(ordering: .acquiring) == 0 && pooled.load(ordering: .acquiring) == 0 {
                    waiting.wrappingSubtract(1, ordering: .relaxed)
                    return
                }
                sched_yield()
            }
        }
    }

    private func takeChunk() -> [UInt32]? {
        pool.withLock { pool -> [UInt32]? in
            guard let chunk = pool.popLast() else { return nil }
            pooled.wrappingSubtract(1, ordering: .relaxed)
            return chunk
        }
    }
}
