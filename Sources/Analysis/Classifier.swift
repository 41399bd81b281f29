import Allocators
import ELFCore
import ScanKernels

/// Ranks what fills the heap: allocations grouped by C++ type (vtable in the first word), then
/// by magic (a non-pointer value at a fixed offset shared by many allocations of one size), then
/// by size alone. Each group carries anchored/leaked counts when reachability is known.
public struct Classifier {
    public enum Ranking: String, Sendable, CaseIterable {
        case leaked
        case total
    }

    public struct Options: Sendable {
        /// Only allocations that are not reachable from a root are grouped.
        public var leakedOnly = false
        /// Groups smaller than this are not reported as suspects.
        public var minimumCount = 8
        /// How many allocations of one size are sampled to find magic candidates.
        public var magicSampleSize = 1024
        /// How many leading bytes of an allocation are searched for a magic.
        public var magicWindow = 64
        /// Leaked bytes first (the leak hunt), or total bytes (what fills the heap).
        public var ranking = Ranking.leaked
        /// How the suggested follow-up commands name the input ("--pid 1234"); the core's path
        /// when nil.
        public var inputArgument: String?

        public init() {}
    }

    public struct Report: Sendable, Codable {
        /// The core file's path, as every command's JSON names it.
        public var core: String
        public var allocator: String
        public var method: String
        public var reachabilityKnown: Bool
        public var rootKinds: [String]
        public var usedAllocations: Int
        public var usedBytes: UInt64
        public var leakedAllocations: Int?
        public var leakedBytes: UInt64?
        public var suspects: [Suspect]
        public var warnings: [String]
    }

    public let table: AllocationTable
    public let memory: AddressSpace
    public let reachability: Reachability?
    public let typeOf: (UInt64) -> TypeIdentity?
    /// Where vtables can live (file-backed module mappings), sorted: a first word outside them
    /// is not looked up at all, which keeps the per-allocation cost to a range test.
    public let vtableRanges: [Range<UInt64>]

    public init(table: AllocationTable, memory: AddressSpace, reachability: Reachability?,
                vtableRanges: [Range<UInt64>], typeOf: @escaping (UInt64) -> TypeIdentity?) {
        self.table = table
        self.memory = memory
        self.reachability = reachability
        self.vtableRanges = vtableRanges.sorted { $0.lowerBound < $1.lowerBound }
        self.typeOf = typeOf
    }

    private func mayBeVtable(_ word: UInt64) -> Bool {
        vtableRanges.index(containing: word, start: \.lowerBound, end: \.upperBound) != nil
    }

    public func classify(corePath: String, options: Options = Options(), rootKinds: [RootKind] = []) -> Report {
        let input = options.inputArgument ?? corePath
        let allocations = table.allocations
        var usedBytes: UInt64 = 0
        var usedCount = 0
        var leakedCount = 0
        var leakedBytes: UInt64 = 0
        // Types: the first word of each allocation against the vtable catalog, memoised per value.
        // One pass that keeps only what is left untyped, as 4-byte indices: on a heap of tens
        // of millions of allocations every per-allocation list costs its length in memory.
        var typeCache: [UInt64: TypeIdentity?] = [:]
        var typeGroups: [UInt64: SuspectGroup] = [:]
        var untyped: [UInt32] = []
        var hint = -1
        let progress = ProgressLine(total: UInt64(allocations.count), label: "classifying", unit: .allocations)
        defer {
            progress.advance(UInt64(allocations.count & 0xffff))
            progress.finish()
        }
        for index in allocations.indices {
            if index & 0xffff == 0xffff { progress.advance(0x10000) }
            guard allocations[index].isUsed else { continue }
            let allocation = allocations[index]
            usedCount += 1
            usedBytes += allocation.blockSize
            let liveness = reachability?.liveness(ofAllocationAt: index)
            if liveness?.isLeaked == true {
                leakedCount += 1
                leakedBytes += allocation.blockSize
            }
            guard !options.leakedOnly || liveness?.isLeaked == true else { continue }
            let position = UInt32(index)
            guard allocation.usableSize >= 8,
                  let first = memory.view(at: allocation.address, count: 8, hint: &hint)?.loadUnaligned(as: UInt64.self),
                  mayBeVtable(first) else {
                untyped.append(position)
                continue
            }
            let identity: TypeIdentity?
            if let cached = typeCache[first] {
                identity = cached
            } else {
                identity = typeOf(first)
                typeCache[first] = identity
            }
            if identity != nil {
                typeGroups[first, default: SuspectGroup()].add(allocation, liveness: liveness, shape: leakShape(index))
            } else {
                untyped.append(position)
            }
        }

        let magics = findMagics(in: untyped, options: options)
        var magicGroups = [SuspectGroup](repeating: SuspectGroup(), count: magics.count)
        // Per size number: its group, and its magics in rank order (most sizes have none, and
        // then no bytes are read).
        var sizeNumbers = SizeNumbering()
        var sizeGroups: [SuspectGroup] = []
        var magicsOfSize: [[Int]] = []
        for position in untyped {
            let index = Int(position)
            let allocation = allocations[index]
            let number = sizeNumbers.number(of: allocation.blockSize)
            if number == sizeGroups.count {
                sizeGroups.append(SuspectGroup())
                magicsOfSize.append(magics.indices.filter { magics[$0].blockSize == allocation.blockSize })
            }
            let candidates = magicsOfSize[number]
            if !candidates.isEmpty, let keyIndex = withHead(of: allocation, window: options.magicWindow, hint: &hint, { head in
                candidates.first { magics[$0].matches(head) }
            }) ?? nil {
                magicGroups[keyIndex].add(allocation, liveness: liveness(index), shape: leakShape(index))
            } else {
                sizeGroups[number].add(allocation, liveness: liveness(index), shape: leakShape(index))
            }
        }

        let known = reachability != nil
        var suspects: [Suspect] = []
        for (vtable, group) in typeGroups where group.count >= options.minimumCount {
            let identity = typeCache[vtable]!!
            suspects.append(group.suspect(kind: .type, name: identity.name, value: hex(vtable), width: 8, offset: 0,
                                          module: identity.module, usedBytes: usedBytes, reachabilityKnown: known,
                                          command: "heapscan find \(input) \(hex(vtable)) --width 8 --context 64 --limit 20"))
        }
        for (keyIndex, key) in magics.enumerated() where magicGroups[keyIndex].count >= options.minimumCount {
            suspects.append(magicGroups[keyIndex].suspect(
                kind: .magic, name: "\(hex(key.value)) at +\(key.offset) of \(key.blockSize)-byte blocks",
                value: hex(key.value), width: key.width, offset: UInt64(key.offset), module: nil,
                usedBytes: usedBytes, reachabilityKnown: known,
                command: "heapscan find \(input) \(hex(key.value)) --width \(key.width) --context 64 --limit 20"))
        }
        for (blockSize, group) in zip(sizeNumbers.sizes, sizeGroups) where group.count >= options.minimumCount {
            let example = group.leakedExamples.first ?? group.otherExamples.first ?? 0
            suspects.append(group.suspect(kind: .size, name: "\(blockSize)-byte blocks", value: nil, width: nil,
                                          offset: nil, module: nil, usedBytes: usedBytes, reachabilityKnown: known,
                                          command: "heapscan show \(input) \(hex(example))"))
        }
        suspects.sort(by: options.ranking == .leaked && known ? Suspect.leaksRankBefore : Suspect.ranksBefore)
        return Report(core: corePath, allocator: table.allocator, method: table.method, reachabilityKnown: known,
                      rootKinds: rootKinds.map(\.rawValue), usedAllocations: usedCount, usedBytes: usedBytes,
                      leakedAllocations: known ? leakedCount : nil, leakedBytes: known ? leakedBytes : nil,
                      suspects: suspects, warnings: table.warnings)
    }

    private func liveness(_ index: Int) -> Liveness? { reachability?.liveness(ofAllocationAt: index) }

    private func leakShape(_ index: Int) -> SuspectGroup.LeakShape {
        guard let reachability else { return SuspectGroup.LeakShape(isRoot: false, inCycle: false) }
        return SuspectGroup.LeakShape(isRoot: reachability.isLeakRoot(index), inCycle: reachability.isInLeakedCycle(index))
    }

    private func withHead<T>(of allocation: Allocation, window: Int, hint: inout Int,
                             _ body: (UnsafeRawBufferPointer) -> T) -> T? {
        let length = Int(min(UInt64(window), allocation.usableSize))
        guard let head = memory.view(at: allocation.address, count: length, hint: &hint) else { return nil }
        return body(head)
    }

    /// Magic candidates: per block size, values that recur at one offset in a spread-out sample
    /// of its allocations, then counted exactly over all of them. Ordered so each allocation is
    /// attributed to the most common key it carries.
    func findMagics(in indices: [UInt32], options: Options) -> [MagicKey] {
        countMagics(in: indices, options: options).map(\.key)
    }

    /// Magic candidates with their exact counts, most common first.
    func countMagics(in indices: [UInt32], options: Options) -> [(key: MagicKey, count: Int)] {
        let allocations = table.allocations
        var sizeNumbers = SizeNumbering()
        var bySize: [[UInt32]] = []
        for index in indices {
            let number = sizeNumbers.number(of: allocations[Int(index)].blockSize)
            if number == bySize.count { bySize.append([]) }
            bySize[number].append(index)
        }
        var hint = -1
        let valueKind = ValueKind(memory: memory)
        var candidates: [MagicKey] = []
        // Per size number, the indices into `candidates` of that size's keys.
        var candidatesOfSize = [[Int]](repeating: [], count: bySize.count)
        for (number, members) in bySize.enumerated() where members.count >= options.minimumCount {
            let blockSize = sizeNumbers.sizes[number]
            let stride = max(1, members.count / options.magicSampleSize)
            var sampleCounts: [MagicKey: Int] = [:]
            var sampled = 0
            for position in Swift.stride(from: 0, to: members.count, by: stride) {
                sampled += 1
                _ = withHead(of: allocations[Int(members[position])], window: options.magicWindow, hint: &hint) { head in
                    for offset in Swift.stride(from: 0, to: head.count - 3, by: 4) {
                        let narrow = UInt64(head.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                        let wide = offset % 8 == 0 && offset + 8 <= head.count
                            ? head.loadUnaligned(fromByteOffset: offset, as: UInt64.self) : nil
                        // Halves of pointers are not magics.
                        let enclosing = head.loadUnaligned(fromByteOffset: offset & ~7, as: UInt64.self)
                        let inPointer = offset & ~7 + 8 <= head.count && memory.segment(containing: enclosing) != nil
                        if !inPointer && valueKind.isMagicCandidate(narrow, width: 4,
                                                                    enclosing: offset & ~7 + 8 <= head.count ? enclosing : nil) {
                            sampleCounts[MagicKey(blockSize: blockSize, width: 4, offset: offset, value: narrow), default: 0] += 1
                        }
                        if let wide, valueKind.isMagicCandidate(wide, width: 8) {
                            sampleCounts[MagicKey(blockSize: blockSize, width: 8, offset: offset, value: wide), default: 0] += 1
                        }
                    }
                }
            }
            let threshold = max(2, sampled / 100)
            for key in sampleCounts.filter({ $0.value >= threshold }).map(\.key) {
                candidatesOfSize[number].append(candidates.count)
                candidates.append(key)
            }
        }
        guard !candidates.isEmpty else { return [] }

        // Counted in an array by candidate: hashing a key per matching allocation would dominate.
        var counts = [Int](repeating: 0, count: candidates.count)
        for (number, keys) in candidatesOfSize.enumerated() where !keys.isEmpty {
            for index in bySize[number] {
                _ = withHead(of: allocations[Int(index)], window: options.magicWindow, hint: &hint) { head in
                    for key in keys where candidates[key].matches(head) { counts[key] += 1 }
                }
            }
        }
        var exact: [MagicKey: Int] = [:]
        for (key, count) in zip(candidates, counts) where count > 0 { exact[key] = count }
        // A 4-byte half of an 8-byte magic is the same finding; keep the wider one.
        let kept = exact.filter { entry in
            entry.value >= options.minimumCount && !exact.contains { $0.key.width == 8 && entry.key.isHalf(of: $0.key) && $0.value >= entry.value }
        }
        return kept.sorted { lhs, rhs in lhs.value != rhs.value ? lhs.value > rhs.value : lhs.key < rhs.key }
            .map { (key: $0.key, count: $0.value) }
    }
}
