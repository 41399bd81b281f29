import Allocators
import Dispatch
import ELFCore
import ScanKernels

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
/// and in marked allocations that points into a used allocation marks it. Roots, then each new
/// wave of marked allocations, are scanned in parallel; each worker sets bits in its own bit set
/// and the sets are OR-ed between waves, so no atomics are needed and memory does not grow with
/// the number of pointers found. Memory: a few bits per allocation per worker, a 4-byte index
/// per allocation of the current wave, plus the parent of each marked allocation when chains
/// are wanted (`explain`).
public struct Reachability: @unchecked Sendable {
    public let table: AllocationTable
    private let anchored: BitSet
    private let referenced: BitSet
    /// How each anchored allocation was first reached; empty unless chains were requested.
    private let parents: [Reference]

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

    /// A pointer found by a scan task: the allocation it points into and where it was found.
    private struct Hit {
        let target: Int32
        let reference: Reference
    }

    /// One contiguous range of words to scan, and who holds them.
    private struct Source {
        let words: UnsafeRawBufferPointer
        let base: UInt64
        let fromAllocation: Int32
        let rootIndex: Int32
    }

    /// What one scan pass covers: root ranges, then allocations by index. Allocations are kept
    /// as indices (4 bytes each) and turned into word ranges by the worker that scans them.
    private struct Wave {
        var roots: [Source] = []
        var allocations: [Int32] = []
        var count: Int { roots.count + allocations.count }
        var isEmpty: Bool { count == 0 }
    }

    /// What the workers of one pass found: the union of their bit sets, and (when chains are
    /// recorded) each worker's first pointer to each target, in worker order.
    private struct PassResult {
        var found: BitSet
        var hits: [[Hit]]
    }

    /// `referenceRoots` (all root kinds, when `roots` is a subset) are looked through too when
    /// deciding whether anything at all points to a leaked allocation.
    public init(table: AllocationTable, roots: RootSet, memory: AddressSpace, recordChains: Bool = true,
                referenceRoots: RootSet? = nil) {
        self.table = table
        let allocations = table.allocations
        let count = allocations.count
        let lookup = AllocationLookup(allocations)
        var used = BitSet(count: count)
        for index in allocations.indices where allocations[index].isUsed { used.insert(index) }
        var anchored = BitSet(count: count)
        var parents = recordChains ? [Reference](repeating: .none, count: count) : []

        func sources(of roots: RootSet) -> [Source] {
            roots.ranges.enumerated().compactMap { rootIndex, range in
                let skip = Int((8 - range.start % 8) % 8)
                guard range.bytes.count > skip else { return nil }
                let base = range.kind == .register ? 0 : range.start + UInt64(skip)
                return Source(words: UnsafeRawBufferPointer(rebasing: range.bytes[skip...]), base: base,
                              fromAllocation: -1, rootIndex: Int32(rootIndex))
            }
        }
        var wave = Wave(roots: sources(of: roots))
        while !wave.isEmpty {
            let result = Self.scanInParallel(wave, allocations: allocations, memory: memory, lookup: lookup,
                                             used: used, skip: anchored, recordChains: recordChains)
            if recordChains {
                for hits in result.hits {
                    for hit in hits where !parents[Int(hit.target)].isSet { parents[Int(hit.target)] = hit.reference }
                }
            }
            var next = Wave()
            result.found.forEachMember { index in
                if anchored.insert(index) { next.allocations.append(Int32(index)) }
            }
            wave = next
        }

        // Referenced at all: a pointer from any root or any used allocation, anchored or not.
        var everything = Wave(roots: referenceRoots.map(sources(of:)) ?? [])
        for index in allocations.indices where used.contains(index) && !anchored.contains(index) {
            everything.allocations.append(Int32(index))
        }
        var referenced = anchored
        let leakedHits = Self.scanInParallel(everything, allocations: allocations, memory: memory, lookup: lookup,
                                             used: used, skip: anchored, recordChains: false)
        referenced.formUnion(leakedHits.found)
        self.anchored = anchored
        self.referenced = referenced
        self.parents = parents
    }

    /// Scans a wave on all cores; finds pointers into used allocations not in `skip`, other
    /// than an allocation's pointers to itself.
    private static func scanInParallel(_ wave: Wave, allocations: [Allocation], memory: AddressSpace,
                                       lookup: AllocationLookup, used: BitSet, skip: BitSet,
                                       recordChains: Bool) -> PassResult {
        // Each worker owns a bit set of n/8 bytes: a bounded number of them keeps that small
        // next to the table on many-core machines.
        let workers = max(1, min(ParallelScan.defaultThreadCount * 4, 32, wave.count))
        let found = UnsafeMutableBufferPointer<BitSet>.allocate(capacity: workers)
        found.initialize(repeating: BitSet(count: 0))
        let hits = UnsafeMutableBufferPointer<[Hit]>.allocate(capacity: workers)
        hits.initialize(repeating: [])
        defer {
            found.deinitialize()
            found.deallocate()
            hits.deinitialize()
            hits.deallocate()
        }
        allocations.withUnsafeBufferPointer { allocations in
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var marks = BitSet(count: allocations.count)
                var recorded: [Hit] = []
                var segmentHint = -1
                var position = worker
                while position < wave.count {
                    if position < wave.roots.count {
                        scan(wave.roots[position], lookup: lookup, used: used, skip: skip,
                             marks: &marks, recordChains: recordChains, hits: &recorded)
                    } else {
                        let index = Int(wave.allocations[position - wave.roots.count])
                        let allocation = allocations[index]
                        if let bytes = memory.prefixView(at: allocation.address, upTo: Int(clamping: allocation.usableSize),
                                                         hint: &segmentHint) {
                            scan(Source(words: bytes, base: allocation.address, fromAllocation: Int32(index), rootIndex: -1),
                                 lookup: lookup, used: used, skip: skip, marks: &marks, recordChains: recordChains,
                                 hits: &recorded)
                        }
                    }
                    position += workers
                }
                found[worker] = marks
                hits[worker] = recorded
            }
        }
        var union = found[0]
        for worker in 1..<workers { union.formUnion(found[worker]) }
        return PassResult(found: union, hits: Array(hits))
    }

    private static func scan(_ source: Source, lookup: AllocationLookup, used: BitSet, skip: BitSet,
                             marks: inout BitSet, recordChains: Bool, hits: inout [Hit]) {
        let words = source.words
        let wordCount = words.count / 8
        let from = Int(source.fromAllocation)
        for slot in 0..<wordCount {
            let value = words.loadUnaligned(fromByteOffset: slot &* 8, as: UInt64.self)
            let index = lookup.find(value)
            guard index >= 0, index != from, used.contains(index), !skip.contains(index),
                  marks.insert(index), recordChains else { continue }
            hits.append(Hit(target: Int32(index), reference: Reference(
                fromAllocation: source.fromAllocation, rootIndex: source.rootIndex,
                location: source.base &+ UInt64(slot &* 8))))
        }
    }

    /// Liveness of the allocation at `index`; nil for free allocations.
    public func liveness(ofAllocationAt index: Int) -> Liveness? {
        guard table.allocations[index].isUsed else { return nil }
        if anchored.contains(index) { return .anchored }
        return referenced.contains(index) ? .leaked : .unreferenced
    }

    public func reference(toAllocationAt index: Int) -> Reference? {
        guard !parents.isEmpty else { return nil }
        let parent = parents[index]
        return parent.isSet ? parent : nil
    }

    public var anchoredCount: Int { anchored.population }
}
