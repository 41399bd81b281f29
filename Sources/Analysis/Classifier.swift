import Allocators
import ELFCore
import ScanKernels

/// Ranks what fills the heap: allocations grouped by C++ type (vtable in the first word), then
/// by the libstdc++ container they are part of (a map node, a vector's body), then by magic (a
/// non-pointer value at a fixed offset shared by many allocations of one size), then by size alone. Each group carries anchored/leaked counts when reachability is known.
public struct Classifier {
    public enum Ranking: String, Sendable, CaseIterable {
        case leaked
        case total
    }

    public struct Options: Sendable {
        /// Only allocations that are not reachable from a root are grouped.
        public var leakedOnly = false
        /// Groups smaller than this are not reported as suspects, unless they hold at least
        /// `minimumShare` of the used bytes: a few huge blocks are what fills a heap as often as
        /// many small ones.
        public var minimumCount = 8
        /// Groups with at least this share of the used bytes are reported whatever their count.
        public var minimumShare = 0.01
        /// Name each untyped group's most common owner: the typed object field pointing into
        /// its allocations (one more read of every typed object, 8 bytes an allocation).
        public var owners = false
        /// A magic must recur in this many allocations, however small `minimumCount` is: a value
        /// two blocks share is a coincidence of stale bytes, and would group them differently
        /// in every run (`diff` groups with `minimumCount` 1).
        public var minimumMagicCount = 8
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
        public var anchoredAllocations: Int?
        public var anchoredBytes: UInt64?
        /// Leaked allocations nothing at all points to (a subset of the leaked ones).
        public var unreferencedAllocations: Int?
        public var unreferencedBytes: UInt64?
        /// With `--anchored-by`: the roots asked about ("stacks", "thread 1234"), and the
        /// allocations anchored only through them, the only ones the suspects count.
        public var anchoredOnlyBy: String? = nil
        public var selectedAllocations: Int? = nil
        public var selectedBytes: UInt64? = nil
        public var suspects: [Suspect]
        /// What the report leaves out: groups below both `--min-count` and the byte share, and
        /// (once the caller cuts the list) groups past `--top`.
        public var omitted: Omitted
        public var warnings: [String]
    }

    /// Groups a report does not list, and what they hold.
    public struct Omitted: Sendable, Codable, Equatable {
        /// Fewer allocations than `minimumCount` and less than `minimumShare` of the used bytes.
        public var smallGroups = 0
        public var smallAllocations = 0
        public var smallBytes: UInt64 = 0
        public var minimumCount = 0
        public var minimumShare = 0.0
        /// Ranked past the number of rows asked for.
        public var groupsPastTop = 0
        public var allocationsPastTop = 0
        public var bytesPastTop: UInt64 = 0

        public init() {}
    }

    public let table: AllocationTable
    public let memory: AddressSpace
    public let reachability: Reachability?
    public let typeOf: (UInt64) -> TypeIdentity?
    /// Where vtables can live (file-backed module mappings), sorted: a first word outside them
    /// is not looked up at all, which keeps the per-allocation cost to a range test.
    public let vtableRanges: [Range<UInt64>]
    /// Where objects sit behind an allocator header; their groups are named "THD at +24".
    public let objectOffsets: ObjectOffsets
    /// Only these allocations are grouped (`leaks --anchored-by`); all when nil.
    var selection: BitSet?

    public init(table: AllocationTable, memory: AddressSpace, reachability: Reachability?,
                vtableRanges: [Range<UInt64>], objectOffsets: ObjectOffsets = .none,
                typeOf: @escaping (UInt64) -> TypeIdentity?) {
        self.table = table
        self.memory = memory
        self.reachability = reachability
        self.objectOffsets = objectOffsets
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
        var unreferencedCount = 0
        var unreferencedBytes: UInt64 = 0
        var selectedCount = 0
        var selectedBytes: UInt64 = 0
        // Types: the first word of each allocation against the vtable catalog, memoised per value.
        // One pass that keeps only what is left untyped, as 4-byte indices: on a heap of tens
        // of millions of allocations every per-allocation list costs its length in memory.
        var typeCache: [UInt64: TypeIdentity?] = [:]
        var typeGroups: [ObjectKey: SuspectGroup] = [:]
        func identify(_ word: UInt64) -> TypeIdentity? {
            guard mayBeVtable(word) else { return nil }
            if let cached = typeCache[word] { return cached }
            let identity = typeOf(word)
            typeCache[word] = identity
            return identity
        }
        var untyped: [UInt32] = []
        var hint = -1
        var owners = options.owners ? BlockOwners(table: table) : nil
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
            if liveness == .unreferenced {
                unreferencedCount += 1
                unreferencedBytes += allocation.blockSize
            }
            guard !options.leakedOnly || liveness?.isLeaked == true else { continue }
            if let selection {
                guard selection.contains(index) else { continue }
                selectedCount += 1
                selectedBytes += allocation.blockSize
            }
            let position = UInt32(index)
            guard allocation.usableSize >= 8,
                  let first = memory.view(at: allocation.address, count: 8, hint: &hint)?.loadUnaligned(as: UInt64.self) else {
                untyped.append(position)
                continue
            }
            var key: ObjectKey?
            if identify(first) != nil {
                key = ObjectKey(vptr: first, offset: 0)
            } else if !objectOffsets.isEmpty, let offset = objectOffsets.offset(ofBlockSize: allocation.blockSize),
                      offset + 8 <= allocation.usableSize,
                      let word = memory.view(at: allocation.address + offset, count: 8, hint: &hint)?.loadUnaligned(as: UInt64.self),
                      identify(word) != nil {
                key = ObjectKey(vptr: word, offset: offset)
            }
            if let key {
                typeGroups[key, default: SuspectGroup()].add(allocation, liveness: liveness, shape: leakShape(index))
                if owners != nil, let object = memory.view(at: allocation.address + key.offset,
                                                            count: Int(allocation.usableSize - key.offset), hint: &hint) {
                    owners!.scan(object, of: index, vptr: key.vptr, offset: key.offset)
                }
            } else {
                untyped.append(position)
            }
        }

        // Parts of libstdc++ containers are named by their container, before any magic: their
        // recurring words are colours, links and stale bytes, not identities.
        let containers = ContainerCensus(table: table, memory: memory, reachability: reachability, candidates: untyped,
                                         isVtable: { identify($0) != nil })
        var containerGroups = [SuspectGroup](repeating: SuspectGroup(), count: containers.keys.count)
        var unnamed: [UInt32] = []
        for (position, index) in untyped.enumerated() {
            guard let keyIndex = containers.keyIndex(at: position) else {
                unnamed.append(index)
                continue
            }
            containerGroups[keyIndex].add(allocations[Int(index)], liveness: liveness(Int(index)), shape: leakShape(Int(index)))
            containerGroups[keyIndex].add(owner: owners?.owner(of: Int(index)))
        }
        untyped = unnamed

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
                magicGroups[keyIndex].add(owner: owners?.owner(of: index))
            } else {
                sizeGroups[number].add(allocation, liveness: liveness(index), shape: leakShape(index))
                sizeGroups[number].add(owner: owners?.owner(of: index))
            }
        }

        let known = reachability != nil
        var suspects: [Suspect] = []
        var omitted = Omitted()
        omitted.minimumCount = options.minimumCount
        omitted.minimumShare = options.minimumShare
        // Big in count or big in bytes; what is neither is summed up in one line.
        func shown(_ group: SuspectGroup) -> Bool {
            if group.count >= options.minimumCount
                || (usedBytes > 0 && Double(group.bytes) >= options.minimumShare * Double(usedBytes)) { return true }
            if group.count > 0 {
                omitted.smallGroups += 1
                omitted.smallAllocations += group.count
                omitted.smallBytes += group.bytes
            }
            return false
        }
        for (key, group) in typeGroups where shown(group) {
            let identity = typeCache[key.vptr]!!
            suspects.append(group.suspect(kind: .type, name: ObjectOffsets.name(identity.name, offset: key.offset),
                                          value: hex(key.vptr), width: 8, offset: key.offset,
                                          module: identity.module, usedBytes: usedBytes, reachabilityKnown: known,
                                          command: "heapscan find \(input) \(hex(key.vptr)) --width 8 --context 64 --limit 20"))
        }
        // "Channel +24": the owner's type and the field's offset in the object.
        func named(_ suspect: Suspect, _ group: SuspectGroup) -> Suspect {
            guard let owners, let top = group.mostCommonOwner, let type = typeCache[owners.types[Int(top.owner.type)].vptr] ?? nil
            else { return suspect }
            var named = suspect
            named.owner = "\(type.name) +\(top.owner.field)"
            named.ownerShare = Double(top.count) / Double(max(1, group.count))
            return named
        }
        for (keyIndex, key) in containers.keys.enumerated() where shown(containerGroups[keyIndex]) {
            let group = containerGroups[keyIndex]
            let example = group.leakedExamples.first ?? group.otherExamples.first ?? 0
            suspects.append(named(group.suspect(
                kind: .container, name: ContainerCensus.name(of: key) { typeCache[$0]??.name },
                value: nil, width: nil, offset: nil, module: nil, usedBytes: usedBytes, reachabilityKnown: known,
                command: "heapscan show \(input) \(hex(example))"), group))
        }
        for (keyIndex, key) in magics.enumerated() where shown(magicGroups[keyIndex]) {
            suspects.append(named(magicGroups[keyIndex].suspect(
                kind: .magic, name: "\(hex(key.value)) at +\(key.offset) of \(key.blockSize)-byte blocks",
                value: hex(key.value), width: key.width, offset: UInt64(key.offset), module: nil,
                usedBytes: usedBytes, reachabilityKnown: known,
                command: "heapscan find \(input) \(hex(key.value)) --width \(key.width) --context 64 --limit 20"), magicGroups[keyIndex]))
        }
        for (blockSize, group) in zip(sizeNumbers.sizes, sizeGroups) where shown(group) {
            let example = group.leakedExamples.first ?? group.otherExamples.first ?? 0
            suspects.append(named(group.suspect(kind: .size, name: "\(blockSize)-byte blocks", value: nil, width: nil,
                                                offset: nil, module: nil, usedBytes: usedBytes, reachabilityKnown: known,
                                                command: "heapscan show \(input) \(hex(example))"), group))
        }
        suspects.sort(by: options.ranking == .leaked && known ? Suspect.leaksRankBefore : Suspect.ranksBefore)
        return Report(core: corePath, allocator: table.allocator, method: table.method, reachabilityKnown: known,
                      rootKinds: rootKinds.map(\.rawValue), usedAllocations: usedCount, usedBytes: usedBytes,
                      leakedAllocations: known ? leakedCount : nil, leakedBytes: known ? leakedBytes : nil,
                      anchoredAllocations: known ? usedCount - leakedCount : nil,
                      anchoredBytes: known ? usedBytes - leakedBytes : nil,
                      unreferencedAllocations: known ? unreferencedCount : nil,
                      unreferencedBytes: known ? unreferencedBytes : nil,
                      selectedAllocations: selection != nil ? selectedCount : nil,
                      selectedBytes: selection != nil ? selectedBytes : nil,
                      suspects: suspects, omitted: omitted, warnings: table.warnings)
    }

    /// A type group: objects of one dynamic type at one offset of their allocations.
    private struct ObjectKey: Hashable {
        let vptr: UInt64
        let offset: UInt64
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
        for (number, members) in bySize.enumerated() where members.count >= max(options.minimumCount, options.minimumMagicCount) {
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
            entry.value >= max(options.minimumCount, options.minimumMagicCount) && !exact.contains { $0.key.width == 8 && entry.key.isHalf(of: $0.key) && $0.value >= entry.value }
        }
        return kept.sorted { lhs, rhs in lhs.value != rhs.value ? lhs.value > rhs.value : lhs.key < rhs.key }
            .map { (key: $0.key, count: $0.value) }
    }
}

extension Classifier.Report {
    /// Keeps the first `count` suspects (all of them when 0); the rest are counted as left out.
    public mutating func keepFirst(_ count: Int) {
        guard count > 0, suspects.count > count else { return }
        let rest = suspects[count...]
        omitted.groupsPastTop = rest.count
        omitted.allocationsPastTop = rest.reduce(0) { $0 + $1.count }
        omitted.bytesPastTop = rest.reduce(0) { $0 + $1.bytes }
        suspects = Array(suspects.prefix(count))
    }
}
