import Allocators
import ELFCore

/// Who points at one allocation (every aligned word of the roots and of the used allocations
/// holding an address inside it), or what it points at (its words holding an address inside a
/// used allocation), summarised by owner and offset: `heapscan refs`.
public struct ReferenceQuery: Sendable, Codable {
    public enum Direction: String, Sendable, Codable, CaseIterable {
        case incoming
        case outgoing
    }

    public struct Reference: Sendable, Codable, Equatable {
        /// Address of the word holding the pointer; a register's name for a register root.
        public let location: String
        /// The allocation holding the pointer, nil for a root.
        public let holder: String?
        /// "THD at +24", "32-byte blocks", or the root's kind and name ("stack: stack of thread 12").
        public let owner: String
        /// Offset of the word in the holder's allocation (an object behind an allocator header
        /// starts at the offset its owner names); nil for a root.
        public let offset: UInt64?
        /// The root's kind and name ("stack of thread 12"), for a root.
        public let rootKind: RootKind?
        public var rootName: String? = nil
        /// The global holding the pointer ("g_cache+0x8 in server"), when symbols cover it.
        public let symbol: String?
        /// The allocation pointed into, its owner, and where in it the pointer points.
        public let target: String
        public let targetOwner: String
        public let targetOffset: UInt64
        /// Liveness of the other side: the holder (incoming) or the target (outgoing).
        public let liveness: Liveness?
    }

    /// References sharing an owner and offset (incoming) or a target owner (outgoing).
    public struct Group: Sendable, Codable, Equatable {
        public let owner: String
        public let offset: UInt64?
        public let count: Int
        /// `count` over all references found.
        public let share: Double
    }

    /// The core file's path, as every command's JSON names it.
    public var core = ""
    public let address: String
    public let start: String
    public let owner: String
    public let usableSize: UInt64
    public let liveness: Liveness?
    public let direction: Direction
    /// Every reference found; `references` holds at most the limit asked for.
    public let total: Int
    public let groups: [Group]
    public let references: [Reference]
    /// With --depth N, the groups of levels 2...N: who points at the holders of the level before.
    public let deeper: [[Group]]

    /// Holders followed to the next level, at most.
    static let maximumHolders = 10_000

    static func groups(_ counts: some Collection<(owner: String, offset: UInt64?, count: Int)>, total: Int) -> [Group] {
        counts.sorted { $0.count != $1.count ? $0.count > $1.count : ($0.owner, $0.offset ?? 0) < ($1.owner, $1.offset ?? 0) }
            .map { Group(owner: $0.owner, offset: $0.offset, count: $0.count, share: total > 0 ? Double($0.count) / Double(total) : 0) }
    }
}

extension LeakAnalysis {
    /// The references to or from the used allocation containing `address`, the first `limit` of
    /// them listed; nil when no used allocation contains it.
    /// With `depth` above 1, incoming references are followed further back, level by level.
    public func references(of address: UInt64, direction: ReferenceQuery.Direction, limit: Int,
                           depth: Int = 1) -> ReferenceQuery? {
        guard let table, let index = table.index(containing: address), table.allocations[index].isUsed else { return nil }
        let allocation = table.allocations[index]
        var found: [ReferenceQuery.Reference] = []
        var total = 0
        var counts: [String: (owner: String, offset: UInt64?, count: Int)] = [:]
        func note(_ reference: ReferenceQuery.Reference) {
            total += 1
            let offset = direction == .incoming ? reference.offset : nil
            let owner = direction == .incoming ? reference.owner : reference.targetOwner
            counts["\(owner)|\(offset.map(String.init) ?? "")", default: (owner, offset, 0)].count += 1
            if found.count < limit { found.append(reference) }
        }
        var deeper: [[ReferenceQuery.Group]] = []
        switch direction {
        case .incoming: deeper = deeperLevels(from: incoming(to: index, note: note), depth: depth)
        case .outgoing: outgoing(from: index, note: note)
        }
        var query = ReferenceQuery(address: hex(address), start: hex(allocation.address), owner: owner(of: allocation),
                                   usableSize: allocation.usableSize, liveness: reachability?.liveness(ofAllocationAt: index),
                                   direction: direction, total: total, groups: ReferenceQuery.groups(counts.values, total: total),
                                   references: found, deeper: deeper)
        query.core = core.path
        return query
    }

    /// "THD at +24" for a typed object, else "48-byte blocks", as `leaks` names its groups.
    private func owner(of allocation: Allocation) -> String {
        objectTypeName(of: allocation) ?? "\(allocation.blockSize)-byte blocks"
    }

    private func incoming(to index: Int, note: (ReferenceQuery.Reference) -> Void) -> [Int] {
        guard let table else { return [] }
        let target = table.allocations[index]
        let targetOwner = owner(of: target)
        var holders: [Int] = []
        scanIncoming(to: [index]) { root, location, holderIndex, place, value, _ in
            if let root {
                let name = root.kind == .register
                    ? (root.registerNames.indices.contains(Int(location / 8)) ? root.registerNames[Int(location / 8)] : "register \(location / 8)")
                    : hex(location)
                note(.init(location: name, holder: nil, owner: "\(root.kind.rawValue): \(root.name)", offset: nil, rootKind: root.kind,
                           rootName: root.name, symbol: root.kind == .register ? nil : symbolize(location), target: hex(target.address),
                           targetOwner: targetOwner, targetOffset: value - target.address, liveness: nil))
                return
            }
            let holder = table.allocations[holderIndex]
            if holders.last != holderIndex { holders.append(holderIndex) }
            note(.init(location: hex(location), holder: hex(holder.address), owner: owner(of: holder),
                       offset: place, rootKind: nil, symbol: nil,
                       target: hex(target.address), targetOwner: targetOwner, targetOffset: value - target.address,
                       liveness: reachability?.liveness(ofAllocationAt: holderIndex)))
        }
        return holders
    }

    /// Every aligned word of the roots and of the used allocations (other than the target
    /// itself) that points into one of `targets` (allocation indices): `visit(root, location,
    /// holder, offset in holder, value, target)`, with `root` nil for a word in an allocation and
    /// `location` a register's index × 8 for a register root.
    private func scanIncoming(to targets: Set<Int>,
                              visit: (RootRange?, UInt64, Int, UInt64, UInt64, Int) -> Void) {
        guard let table, !targets.isEmpty else { return }
        let low = targets.map { table.allocations[$0].address }.min()!
        let high = targets.map { table.allocations[$0].address &+ table.allocations[$0].usableSize }.max()!
        func target(of value: UInt64) -> Int? {
            guard value >= low, value < high, let index = table.index(containing: value), targets.contains(index),
                  value < table.allocations[index].address &+ table.allocations[index].usableSize else { return nil }
            return index
        }
        for range in roots?.ranges ?? [] {
            let skip = range.kind == .register ? 0 : Int((8 - range.start % 8) % 8)
            guard range.bytes.count > skip else { continue }
            let words = UnsafeRawBufferPointer(rebasing: range.bytes[skip...])
            for slot in 0..<words.count / 8 {
                let value = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
                guard let index = target(of: value) else { continue }
                let location = range.kind == .register ? UInt64(slot * 8) : range.start &+ UInt64(skip + slot * 8)
                visit(range, location, -1, 0, value, index)
            }
        }
        var hint = -1
        for (holderIndex, holder) in table.allocations.enumerated() where holder.isUsed {
            guard let words = core.addressSpace.prefixView(at: holder.address, upTo: Int(clamping: holder.usableSize), hint: &hint)
            else { continue }
            for slot in 0..<words.count / 8 {
                let value = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
                guard let index = target(of: value), index != holderIndex else { continue }
                visit(nil, holder.address &+ UInt64(slot * 8), holderIndex, UInt64(slot * 8), value, index)
            }
        }
    }

    /// Levels 2...depth of incoming references: who points at the holders of the level before
    /// (allocations only, each once, at most `maximumHolders` of them), grouped by owner and offset.
    private func deeperLevels(from holders: [Int], depth: Int) -> [[ReferenceQuery.Group]] {
        guard let table, depth >= 2 else { return [] }
        var levels: [[ReferenceQuery.Group]] = []
        var visited = Set(holders)
        var current = Set(holders.prefix(ReferenceQuery.maximumHolders))
        for _ in 2...depth where !current.isEmpty {
            var counts: [String: (owner: String, offset: UInt64?, count: Int)] = [:]
            var next = Set<Int>()
            var total = 0
            scanIncoming(to: current) { root, _, holderIndex, place, _, _ in
                total += 1
                let owner = root.map { "\($0.kind.rawValue): \($0.name)" } ?? self.owner(of: table.allocations[holderIndex])
                let offset: UInt64? = root == nil ? place : nil
                counts["\(owner)|\(offset.map(String.init) ?? "")", default: (owner, offset, 0)].count += 1
                if root == nil, next.count < ReferenceQuery.maximumHolders, visited.insert(holderIndex).inserted {
                    next.insert(holderIndex)
                }
            }
            levels.append(ReferenceQuery.groups(counts.values, total: total))
            current = next
        }
        return levels
    }

    private func outgoing(from index: Int, note: (ReferenceQuery.Reference) -> Void) {
        guard let table else { return }
        let holder = table.allocations[index]
        var hint = -1
        guard let words = core.addressSpace.prefixView(at: holder.address, upTo: Int(clamping: holder.usableSize), hint: &hint)
        else { return }
        let holderOwner = owner(of: holder)
        for slot in 0..<words.count / 8 {
            let value = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
            guard let targetIndex = table.index(containing: value), targetIndex != index,
                  table.allocations[targetIndex].isUsed else { continue }
            let target = table.allocations[targetIndex]
            let place = UInt64(slot * 8)
            note(.init(location: hex(holder.address &+ place), holder: hex(holder.address), owner: holderOwner,
                       offset: place, rootKind: nil, symbol: nil,
                       target: hex(target.address), targetOwner: owner(of: target), targetOffset: value - target.address,
                       liveness: reachability?.liveness(ofAllocationAt: targetIndex)))
        }
    }
}
