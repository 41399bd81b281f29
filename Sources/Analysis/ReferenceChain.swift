import Allocators
import ELFCore

/// Why an allocation is still referenced: the path the mark phase took from a root to it.
public struct ReferenceChain: Sendable, Codable {
    public struct Link: Sendable, Codable {
        /// The allocation reached at this step.
        public let allocation: String
        public let size: UInt64
        /// Address of the word that points to it ("rbx" style name for a register root).
        public let pointerAt: String
        /// Offset of that word inside the allocation holding it (nil when held by a root).
        public let offsetInHolder: UInt64?
        /// The global or static variable holding the pointer, "g_registry+0x8 in server", when a
        /// module's symbols cover it.
        public var pointerAtSymbol: String? = nil
        /// The holder's type and the member holding the pointer, "Shard::timers._M_h._M_buckets",
        /// when the holder's class has DWARF.
        public var member: String? = nil
        /// How the mark phase knew the word for a pointer.
        public var edge: EdgeKind = .conservative
        /// For a stack or register root: the frame whose locals or registers hold the pointer,
        /// "frame #2 worker_main(Shard&)+0x3c in service", when the unwinder gets that far.
        public var frame: String? = nil
    }

    /// The core file's path, as every command's JSON names it.
    public var core = ""
    public let target: String
    public let liveness: Liveness
    /// Root kind and name where the chain starts; nil when the target is leaked.
    public let rootKind: RootKind?
    public let rootName: String?
    /// From the root's first allocation down to the target.
    public let links: [Link]
    /// What makes the answer less certain (roots missing from the core).
    public var warnings: [String] = []

    /// Builds the chain for the allocation containing `address`, or nil if none contains it.
    public init?(address: UInt64, reachability: Reachability, roots: RootSet,
                 symbolize: (UInt64) -> String? = { _ in nil },
                 describeMember: (_ holder: UInt64, _ offset: UInt64) -> String? = { _, _ in nil },
                 describeFrame: (_ thread: Int32, _ stackAddress: UInt64?) -> String? = { _, _ in nil }) {
        let table = reachability.table
        guard let targetIndex = table.index(containing: address),
              let liveness = reachability.liveness(ofAllocationAt: targetIndex) else { return nil }
        target = hex(table.allocations[targetIndex].address)
        self.liveness = liveness
        guard liveness == .anchored else {
            rootKind = nil
            rootName = nil
            links = []
            return
        }
        var links: [Link] = []
        var index = targetIndex
        var rootKind: RootKind?
        var rootName: String?
        // Parents form a tree (each allocation is reached once), so this ends; the bound is a guard.
        for _ in 0...table.allocations.count {
            guard let reference = reachability.reference(toAllocationAt: index) else { break }
            let allocation = table.allocations[index]
            if reference.fromAllocation < 0 {
                let root = roots.ranges[Int(reference.rootIndex)]
                rootKind = root.kind
                rootName = root.name
                let location = root.kind == .register
                    ? root.registerNames[Int(reference.location / 8)]
                    : hex(reference.location)
                var link = Link(allocation: hex(allocation.address), size: allocation.usableSize,
                                pointerAt: location, offsetInHolder: nil)
                link.edge = reference.edge
                switch root.kind {
                case .moduleData: link.pointerAtSymbol = symbolize(reference.location)
                case .stack: link.frame = root.threadID.flatMap { describeFrame($0, reference.location) }
                // Registers belong to the innermost frame (callee-saved ones may be a caller's).
                case .register: link.frame = root.threadID.flatMap { describeFrame($0, nil) }
                case .anonymous: break
                }
                links.append(link)
                break
            }
            let holder = table.allocations[Int(reference.fromAllocation)]
            let offset = reference.location &- holder.address
            var link = Link(allocation: hex(allocation.address), size: allocation.usableSize,
                            pointerAt: hex(reference.location), offsetInHolder: offset)
            link.member = describeMember(holder.address, offset)
            link.edge = reference.edge
            links.append(link)
            index = Int(reference.fromAllocation)
        }
        self.rootKind = rootKind
        self.rootName = rootName
        self.links = links.reversed()
    }

    /// A chain that ends one step further, at `target`, held by the last allocation of this one.
    func extended(to target: Allocation, liveness: Liveness, link: Link) -> ReferenceChain {
        ReferenceChain(target: hex(target.address), liveness: liveness, rootKind: rootKind, rootName: rootName,
                       links: links + [link])
    }

    init(target: String, liveness: Liveness, rootKind: RootKind?, rootName: String?, links: [Link]) {
        self.target = target
        self.liveness = liveness
        self.rootKind = rootKind
        self.rootName = rootName
        self.links = links
    }
}
