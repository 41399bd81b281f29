import Allocators
import ELFCore

/// Running totals for one suspect while the classifier walks the allocation table.
struct SuspectGroup {
    var count = 0
    var bytes: UInt64 = 0
    var anchored = 0
    var leaked = 0
    var leakedBytes: UInt64 = 0
    var leakRoots = 0
    var inLeakedCycles = 0

    /// Where a leaked allocation sits in the leaked part of the heap.
    struct LeakShape {
        let isRoot: Bool
        let inCycle: Bool
    }
    var unreferenced = 0
    /// Usable sizes seen and how often; a group rarely has more than a few, so a short list
    /// beats hashing once per allocation.
    var sizeCounts: [(size: UInt64, count: Int)] = []
    var leakedExamples: [UInt64] = []
    var otherExamples: [UInt64] = []
    /// Owners seen (`BlockOwners`) and how often, the first few distinct ones.
    var ownerCounts: [(owner: Owner, count: Int)] = []

    /// A typed object's field holding a pointer into an allocation of the group.
    struct Owner: Equatable {
        /// Index into the owners' types.
        let type: Int32
        /// Offset of the field in the object.
        let field: UInt32
    }

    mutating func add(owner: Owner?) {
        guard let owner else { return }
        if let slot = ownerCounts.firstIndex(where: { $0.owner == owner }) {
            ownerCounts[slot].count += 1
        } else if ownerCounts.count < 16 {
            ownerCounts.append((owner, 1))
        }
    }

    var mostCommonOwner: (owner: Owner, count: Int)? {
        ownerCounts.max { $0.count != $1.count ? $0.count < $1.count : ($0.owner.type, $0.owner.field) > ($1.owner.type, $1.owner.field) }
    }

    mutating func add(_ allocation: Allocation, liveness: Liveness?, shape: LeakShape) {
        if shape.isRoot { leakRoots += 1 }
        if shape.inCycle { inLeakedCycles += 1 }
        count += 1
        bytes += allocation.blockSize
        if let slot = sizeCounts.firstIndex(where: { $0.size == allocation.usableSize }) {
            sizeCounts[slot].count += 1
        } else if sizeCounts.count < 16 {
            sizeCounts.append((allocation.usableSize, 1))
        }
        switch liveness {
        case .anchored?: anchored += 1
        case .leaked?: leaked += 1
        case .unreferenced?:
            leaked += 1
            unreferenced += 1
        case nil: break
        }
        if liveness?.isLeaked == true {
            leakedBytes += allocation.blockSize
            if leakedExamples.count < 3 { leakedExamples.append(allocation.address) }
        } else if otherExamples.count < 3 {
            otherExamples.append(allocation.address)
        }
    }

    var mostCommonSize: UInt64 {
        sizeCounts.max { $0.count != $1.count ? $0.count < $1.count : $0.size > $1.size }?.size ?? 0
    }

    func suspect(kind: Suspect.Kind, name: String, value: String?, width: Int?, offset: UInt64?, module: String?,
                 usedBytes: UInt64, reachabilityKnown: Bool, command: String) -> Suspect {
        Suspect(kind: kind, name: name, value: value, width: width, offset: offset, module: module, count: count,
                bytes: bytes, share: usedBytes > 0 ? Double(bytes) / Double(usedBytes) : 0, objectSize: mostCommonSize,
                anchored: reachabilityKnown ? anchored : nil, leaked: reachabilityKnown ? leaked : nil,
                leakedBytes: reachabilityKnown ? leakedBytes : nil,
                leakRoots: reachabilityKnown ? leakRoots : nil, inLeakedCycles: reachabilityKnown ? inLeakedCycles : nil,
                unreferenced: reachabilityKnown ? unreferenced : nil,
                examples: Array((leakedExamples + otherExamples).prefix(3)).map(hex), command: command)
    }
}
