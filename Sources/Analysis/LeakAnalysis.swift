import Allocators
import ELFCore
import Regions
import Symbols

/// Everything `leaks`, `explain` and `diff` need from one core: the allocator's table, the
/// roots, and the mark results. Built once per command.
public struct LeakAnalysis {
    public let core: CoreFile
    public let regions: RegionMap
    public let table: AllocationTable?
    /// Why there is no table, in the user's terms (e.g. jemalloc's structures refused).
    public let noHeapReason: String?
    public let roots: RootSet?
    public let reachability: Reachability?
    public let typeOf: (UInt64) -> TypeIdentity?
    public let rootKinds: [RootKind]
    /// What the core lacks that reachability depends on: without thread notes there are no
    /// register or stack roots, and a cut-short file loses roots and heap alike. Either way
    /// "leaked" may include anchored objects.
    public let completenessWarnings: [String]

    /// `recordChains` keeps how each allocation was reached, which `explain` needs and
    /// `leaks` does not (it costs 16 bytes per allocation).
    /// `modules` names C++ types by their vtables (symbols or RTTI); without it every
    /// allocation is grouped by magic or size only.
    public init(core: CoreFile, modules: ModuleSet?, rootKinds: Set<RootKind> = Set(RootKind.allCases),
                recordChains: Bool = false) {
        self.core = core
        regions = RegionMap(core: core)
        if let modules {
            let identifier = TypeIdentifier(modules: modules, memory: ProcessMemory(core: core, modules: modules))
            typeOf = { vptr in identifier.primaryClass(of: vptr).map { TypeIdentity(name: $0.name, module: $0.module) } }
        } else {
            typeOf = { _ in nil }
        }
        self.rootKinds = RootKind.allCases.filter(rootKinds.contains)
        completenessWarnings = Self.completeness(of: core)
        let walked = ProcessAllocator.allocationTable(core: core, regions: regions,
                                                      knownMainArena: modules.flatMap(GlibcHeap.mainArenaSymbol(in:)))
        noHeapReason = walked.allocations.isEmpty
            ? (walked.warnings.first ?? "no malloc heap found (glibc arenas not recognised)") : nil
        if walked.allocations.isEmpty {
            table = nil
            roots = nil
            reachability = nil
        } else {
            table = walked
            let roots = RootSet(core: core, regions: regions, table: walked, kinds: rootKinds)
            self.roots = roots
            // "Unreferenced" means no pointer anywhere, whichever roots anchor.
            let everywhere = rootKinds == Set(RootKind.allCases) ? nil : RootSet(core: core, regions: regions, table: walked)
            reachability = Reachability(table: walked, roots: roots, memory: core.addressSpace, recordChains: recordChains,
                                        referenceRoots: everywhere)
        }
    }

    /// The ranked suspects.
    public func classify(options: Classifier.Options = Classifier.Options()) -> Classifier.Report? {
        guard let table else { return nil }
        let modules = regions.regions.filter { $0.label == .file }.map { $0.start..<$0.end }
        var report = Classifier(table: table, memory: core.addressSpace, reachability: reachability,
                                vtableRanges: modules, typeOf: typeOf)
            .classify(corePath: core.path, options: options, rootKinds: rootKinds)
        report.warnings = completenessWarnings + report.warnings
        return report
    }

    static func completeness(of core: CoreFile) -> [String] {
        var warnings: [String] = []
        if core.threads.isEmpty {
            warnings.append("the core has no thread notes: registers and stacks are not roots, so some leaked objects may be anchored")
        }
        let cut = core.segments.filter { $0.presence == .truncated }
        if !cut.isEmpty {
            warnings.append("\(cut.count) segment\(cut.count == 1 ? " is" : "s are") truncated (the core file is cut short): roots and heap past the cut are missing")
        }
        return warnings
    }

    /// The chain from a root to the allocation containing `address`.
    public func explain(_ address: UInt64) -> ReferenceChain? {
        guard let reachability, let roots,
              var chain = ReferenceChain(address: address, reachability: reachability, roots: roots) else { return nil }
        chain.core = core.path
        if chain.liveness != .anchored { chain.warnings = completenessWarnings }
        return chain
    }
}
