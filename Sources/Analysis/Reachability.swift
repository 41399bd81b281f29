import Allocators
import Dispatch
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
/// and in marked allocations that points into a used allocation marks it. Roots, then each new
/// wave of marked allocations, are scanned in parallel; marks are merged between waves, so no
/// atomics are needed. Memory: a few bits per allocation, plus the parent of each marked
/// allocation when chains are wanted (`explain`).
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

        var segmentHint = -1
        func words(of index: Int) -> UnsafeRawBufferPointer? {
            let allocation = allocations[index]
            return memory.prefixView(at: allocation.address, upTo: Int(clamping: allocation.usableSize), hint: &segmentHint)
        }

        func sources(of roots: RootSet) -> [Source] {
            roots.ranges.enumerated().compactMap { rootIndex, range in
                let skip = Int((8 - range.start % 8) % 8)
                guard range.bytes.count > skip else { return nil }
                let base = range.kind == .register ? 0 : range.start + UInt64(skip)
                return Source(words: UnsafeRawBufferPointer(rebasing: range.bytes[skip...]), base: base,
                              fromAllocation: -1, rootIndex: Int32(rootIndex))
            }
        }
        var wave = sources(of: roots)
        while !wave.isEmpty {
            let snapshot = anchored
            let hits = Self.scanInParallel(wave, lookup: lookup, used: used, skip: snapshot)
            var next: [Source] = []
            for hit in hits where anchored.insert(Int(hit.target)) {
                if recordChains { parents[Int(hit.target)] = hit.reference }
                if let bytes = words(of: Int(hit.target)) {
                    next.append(Source(words: bytes, base: allocations[Int(hit.target)].address,
                                       fromAllocation: hit.target, rootIndex: -1))
                }
            }
            wave = next
        }

        // Referenced at all: a pointer from any root or any used allocation, anchored or not.
        var everything: [Source] = referenceRoots.map(sources(of:)) ?? []
        for index in allocations.indices where used.contains(index) && !anchored.contains(index) {
            if let bytes = words(of: index) {
                everything.append(Source(words: bytes, base: allocations[index].address, fromAllocation: Int32(index), rootIndex: -1))
            }
        }
        var referenced = anchored
        let leakedHits = Self.scanInParallel(everything, lookup: lookup, used: used, skip: anchored)
        for hit in leakedHits where hit.reference.fromAllocation != hit.target {
            referenced.insert(Int(hit.target))
        }
        self.anchored = anchored
        self.referenced = referenced
        self.parents = parents
    }

    /// Scans sources on all cores; returns pointers into used allocations not in `skip`.
    private static func scanInParallel(_ sources: [Source], lookup: AllocationLookup, used: BitSet, skip: BitSet) -> [Hit] {
        let workers = max(1, min(System.coreCount * 4, sources.count))
        let results = UnsafeMutableBufferPointer<[Hit]>.allocate(capacity: workers)
        results.initialize(repeating: [])
        defer { results.deinitialize(); results.deallocate() }
        sources.withUnsafeBufferPointer { sources in
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var found: [Hit] = []
                var position = worker
                while position < sources.count {
                    scan(sources[position], lookup: lookup, used: used, skip: skip, into: &found)
                    position += workers
                }
                results[worker] = found
            }
        }
        return results.flatMap { $0 }
    }

    private static func scan(_ source: Source, lookup: AllocationLookup, used: BitSet, skip: BitSet, into found: inout [Hit]) {
        let words = source.words
        let wordCount = words.count / 8
        for slot in 0..<wordCount {
            let value = words.loadUnaligned(fromByteOffset: slot &* 8, as: UInt64.self)
            let index = lookup.find(value)
            guard index >= 0, used.contains(index), !skip.contains(index) else { continue }
            found.append(Hit(target: Int32(index), reference: Reference(
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
