import Allocators
import ELFCore
import Regions

/// Everything `leaks`, `explain` and `diff` need from one core: the allocator's table, the
/// roots, and the mark results. Built once per command.
public struct LeakAnalysis {
    public let core: CoreFile
    public let regions: RegionMap
    public let table: AllocationTable?
    public let roots: RootSet?
    public let reachability: Reachability?
    public let typeOf: (UInt64) -> TypeIdentity?
    public let rootKinds: [RootKind]

    /// `recordChains` keeps how each allocation was reached, which `explain` needs and
    /// `leaks` does not (it costs 16 bytes per allocation).
    public init(core: CoreFile, rootKinds: Set<RootKind> = Set(RootKind.allCases), recordChains: Bool = false,
                typeOf: @escaping (UInt64) -> TypeIdentity? = { _ in nil }) {
        self.core = core
        regions = RegionMap(core: core)
        self.typeOf = typeOf
        self.rootKinds = RootKind.allCases.filter(rootKinds.contains)
        let walked = ProcessAllocator.allocationTable(core: core, regions: regions)
        if walked.allocations.isEmpty {
            table = nil
            roots = nil
            reachability = nil
        } else {
            table = walked
            let roots = RootSet(core: core, regions: regions, table: walked, kinds: rootKinds)
            self.roots = roots
            reachability = Reachability(table: walked, roots: roots, memory: core.addressSpace, recordChains: recordChains)
        }
    }

    /// The ranked suspects.
    public func classify(options: Classifier.Options = Classifier.Options()) -> Classifier.Report? {
        guard let table else { return nil }
        let modules = regions.regions.filter { $0.label == .file }.map { $0.start..<$0.end }
        return Classifier(table: table, memory: core.addressSpace, reachability: reachability,
                          vtableRanges: modules, typeOf: typeOf)
            .classify(corePath: core.path, options: options, rootKinds: rootKinds)
    }

    /// The chain from a root to the allocation containing `address`.
    public func explain(_ address: UInt64) -> ReferenceChain? {
        guard let reachability, let roots else { return nil }
        return ReferenceChain(address: address, reachability: reachability, roots: roots)
    }
}
