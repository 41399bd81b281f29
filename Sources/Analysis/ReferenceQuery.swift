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
}

extension LeakAnalysis {
    /// The references to or from the used allocation containing `address`, the first `limit` of
    /// them listed; nil when no used allocation contains it.
    public func references(of address: UInt64, direction: ReferenceQuery.Direction, limit: Int) -> ReferenceQuery? {
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
        switch direction {
        case .incoming: incoming(to: index, note: note)
        case .outgoing: outgoing(from: index, note: note)
        }
        let groups = counts.values
            .sorted { $0.count != $1.count ? $0.count > $1.count : ($0.owner, $0.offset ?? 0) < ($1.owner, $1.offset ?? 0) }
            .map { ReferenceQuery.Group(owner: $0.owner, offset: $0.offset, count: $0.count,
                                        share: total > 0 ? Double($0.count) / Double(total) : 0) }
        var query = ReferenceQuery(address: hex(address), start: hex(allocation.address), owner: owner(of: allocation),
                                   usableSize: allocation.usableSize, liveness: reachability?.liveness(ofAllocationAt: index),
                                   direction: direction, total: total, groups: groups, references: found)
        query.core = core.path
        return query
    }

    /// "THD at +24" for a typed object, else "48-byte blocks", as `leaks` names its groups.
    private func owner(of allocation: Allocation) -> String {
        objectTypeName(of: allocation) ?? "\(allocation.blockSize)-byte blocks"
    }

    private func incoming(to index: Int, note: (ReferenceQuery.Reference) -> Void) {
        guard let table else { return }
        let target = table.allocations[index]
        let targetOwner = owner(of: target)
        let low = target.address
        let high = target.address &+ target.usableSize
        func targetOffset(_ value: UInt64) -> UInt64 { value - low }
        for range in roots?.ranges ?? [] {
            let skip = range.kind == .register ? 0 : Int((8 - range.start % 8) % 8)
            guard range.bytes.count > skip else { continue }
            let words = UnsafeRawBufferPointer(rebasing: range.bytes[skip...])
            for slot in 0..<words.count / 8 {
                let value = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
                guard value >= low, value < high else { continue }
                let location = range.kind == .register
                    ? (range.registerNames.indices.contains(slot) ? range.registerNames[slot] : "register \(slot)")
                    : hex(range.start &+ UInt64(skip + slot * 8))
                let symbol = range.kind == .register ? nil : symbolize(range.start &+ UInt64(skip + slot * 8))
                note(.init(location: location, holder: nil, owner: "\(range.kind.rawValue): \(range.name)", offset: nil, rootKind: range.kind,
                           rootName: range.name, symbol: symbol, target: hex(low), targetOwner: targetOwner,
                           targetOffset: targetOffset(value), liveness: nil))
            }
        }
        var hint = -1
        for (holderIndex, holder) in table.allocations.enumerated() where holder.isUsed && holderIndex != index {
            guard let words = core.addressSpace.prefixView(at: holder.address, upTo: Int(clamping: holder.usableSize), hint: &hint)
            else { continue }
            var holderOwner: String?
            for slot in 0..<words.count / 8 {
                let value = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
                guard value >= low, value < high else { continue }
                if holderOwner == nil { holderOwner = owner(of: holder) }
                let place = UInt64(slot * 8)
                note(.init(location: hex(holder.address &+ place), holder: hex(holder.address), owner: holderOwner!,
                           offset: place, rootKind: nil, symbol: nil,
                           target: hex(low), targetOwner: targetOwner, targetOffset: targetOffset(value),
                           liveness: reachability?.liveness(ofAllocationAt: holderIndex)))
            }
        }
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
