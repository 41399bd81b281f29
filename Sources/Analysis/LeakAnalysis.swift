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
    /// jemalloc's heap as the walk read it, for what else it holds (profiling records).
    public let jemallocHeap: JemallocHeap?
    /// Why there is no table, in the user's terms (e.g. jemalloc's structures refused).
    public let noHeapReason: String?
    public let roots: RootSet?
    public let reachability: Reachability?
    public let typeOf: (UInt64) -> TypeIdentity?
    /// "symbol+0x8 in module" for an address in a module, when its symbols cover it.
    public let symbolize: (UInt64) -> String?
    /// "Class::member.path" of the member at an offset of an object whose first word is a vptr.
    private let memberOf: (UInt64, UInt64) -> String?
    /// "frame #2 function+0x3c in module" of a thread's stack address (nil: its registers).
    let describeFrame: (Int32, UInt64?) -> String?
    public let rootKinds: [RootKind]
    /// What the core lacks that reachability depends on: without thread notes there are no
    /// register or stack roots, and a cut-short file loses roots and heap alike. Either way
    /// "leaked" may include anchored objects.
    public let completenessWarnings: [String]
    /// Classes in the heap scanned through their DWARF layout instead of conservatively.
    public let typedClassCount: Int
    /// Where objects sit behind an allocator header, per block size.
    public let objectOffsets: ObjectOffsets
    /// The roots `leaks --anchored-by` asks about, and the allocations anchored only through
    /// them: anchored by all roots, not by the roots without them.
    public let anchorSubset: AnchorSubset?
    let anchoredOnlyBySubset: BitSet?

    /// `recordChains` keeps how each allocation was reached, which `explain` needs and
    /// `leaks` does not (it costs 16 bytes per allocation).
    /// `modules` names C++ types by their vtables (symbols or RTTI); without it every
    /// allocation is grouped by magic or size only.
    /// `anchoredOnlyBy` marks a second time without those roots (`leaks --anchored-by`).
    public init(core: CoreFile, modules: ModuleSet?, rootKinds: Set<RootKind> = Set(RootKind.allCases),
                recordChains: Bool = false, anchoredOnlyBy subset: AnchorSubset? = nil) {
        self.core = core
        anchorSubset = subset
        regions = RegionMap(core: core)
        var identifier: TypeIdentifier?
        symbolize = { address in modules?.symbolize(address) }
        describeFrame = { thread, address in
            guard let modules else { return nil }
            let frame = address.map { modules.frame(ofThread: thread, holding: $0) } ?? modules.stackFrames(ofThread: thread).first
            return frame.map { "frame #\($0.number) \($0.function ?? hex($0.pc))" }
        }
        if let modules {
            let known = TypeIdentifier(modules: modules, memory: ProcessMemory(core: core, modules: modules))
            identifier = known
            memberOf = { vptr, offset in
                guard let type = known.primaryClass(of: vptr), let module = modules.module(containing: vptr) else { return nil }
                return modules.memberPath(ofClass: type.name, in: module, offset: offset).map { "\(type.name)::\($0)" }
                    ?? type.name
            }
            typeOf = { vptr in known.primaryClass(of: vptr).map { TypeIdentity(name: $0.name, module: $0.module) } }
        } else {
            typeOf = { _ in nil }
            memberOf = { _, _ in nil }
        }
        self.rootKinds = RootKind.allCases.filter(rootKinds.contains)
        completenessWarnings = Self.completeness(of: core)
        let (walked, jemalloc) = ProcessAllocator.walk(core: core, regions: regions,
                                                       knownMainArena: modules.flatMap(GlibcHeap.mainArenaSymbol(in:)))
        jemallocHeap = jemalloc
        noHeapReason = walked.allocations.isEmpty
            ? (walked.warnings.first ?? "no malloc heap found (glibc arenas not recognised)") : nil
        if walked.allocations.isEmpty {
            typedClassCount = 0
            objectOffsets = .none
            table = nil
            roots = nil
            reachability = nil
            anchoredOnlyBySubset = nil
        } else {
            table = walked
            // Module data is scanned through its variables' types where DWARF gives them.
            let nonPointerData = modules.map { modules in modules.modules.flatMap(modules.nonPointerDataRanges(of:)) } ?? []
            let roots = RootSet(core: core, regions: regions, table: walked, kinds: rootKinds, nonPointerData: nonPointerData)
            self.roots = roots
            // "Unreferenced" means no pointer anywhere, whichever roots anchor.
            let everywhere = rootKinds == Set(RootKind.allCases)
                ? nil : RootSet(core: core, regions: regions, table: walked, nonPointerData: nonPointerData)
            var layouts = TypedLayouts.none
            var offsets = ObjectOffsets.none
            if let identifier {
                offsets = ObjectOffsets(table: walked, memory: core.addressSpace, vtableRanges: regions.moduleRanges) {
                    identifier.primaryClass(of: $0) != nil
                }
                let vptrs = Self.objectWordsInModules(of: walked, memory: core.addressSpace, modules: regions.moduleRanges,
                                                      offsets: offsets)
                let declared = TypedView.view(of: vptrs, identifier: identifier)
                let undeclared = vptrs.filter { declared.layoutByVptr[$0] == nil && identifier.primaryClass(of: $0) != nil }
                let observed = ObservedLayouts.layouts(for: Array(undeclared), table: walked, memory: core.addressSpace)
                layouts = TypedLayouts(declared.adding(observed), objectOffsets: offsets.offsets)
            }
            objectOffsets = offsets
            typedClassCount = layouts.count
            let reachability = Reachability(table: walked, roots: roots, memory: core.addressSpace, recordChains: recordChains,
                                            referenceRoots: everywhere, layouts: layouts)
            self.reachability = reachability
            anchoredOnlyBySubset = subset.map { subset in
                let others = Reachability(table: walked, roots: roots.without(subset), memory: core.addressSpace,
                                          recordChains: false, layouts: layouts)
                var only = BitSet(count: walked.allocations.count)
                for index in walked.allocations.indices
                where reachability.liveness(ofAllocationAt: index) == .anchored && others.liveness(ofAllocationAt: index) != .anchored {
                    only.insert(index)
                }
                return only
            }
        }
    }

    /// The ranked suspects.
    public func classify(options: Classifier.Options = Classifier.Options()) -> Classifier.Report? {
        guard let table else { return nil }
        let modules = regions.moduleRanges
        var classifier = Classifier(table: table, memory: core.addressSpace, reachability: reachability,
                                    vtableRanges: modules, objectOffsets: objectOffsets, typeOf: typeOf)
        classifier.selection = anchoredOnlyBySubset
        var report = classifier.classify(corePath: core.path, options: options, rootKinds: rootKinds)
        report.anchoredOnlyBy = anchorSubset?.description
        report.warnings = completenessWarnings + report.warnings
        return report
    }

    /// Distinct words of used allocations that point into a module where an object's vptr would
    /// be (the first word, or the word behind an allocator header): the vtable pointers whose
    /// classes may have a layout.
    static func objectWordsInModules(of table: AllocationTable, memory: AddressSpace, modules: [Range<UInt64>],
                                     offsets: ObjectOffsets) -> Set<UInt64> {
        var words = Set<UInt64>()
        var lastInserted: UInt64 = 0
        var hint = -1
        func inModule(_ word: UInt64) -> Bool { modules.index(containing: word, start: \.lowerBound, end: \.upperBound) != nil }
        for allocation in table.allocations where allocation.isUsed && allocation.usableSize >= 8 {
            guard let word = memory.view(at: allocation.address, count: 8, hint: &hint)?.loadUnaligned(as: UInt64.self)
            else { continue }
            // Neighbouring objects mostly share their vptr: hash only when it changes.
            if word != lastInserted, inModule(word) {
                words.insert(word)
                lastInserted = word
            }
            if !offsets.isEmpty, let offset = offsets.offset(ofBlockSize: allocation.blockSize), offset + 8 <= allocation.usableSize,
               let inner = memory.view(at: allocation.address + offset, count: 8, hint: &hint)?.loadUnaligned(as: UInt64.self),
               inModule(inner) {
                words.insert(inner)
            }
        }
        return words
    }

    /// The dynamic type of the object in `allocation` and where it starts: its first word, or
    /// the word behind an allocator header.
    public func objectType(of allocation: Allocation) -> (type: TypeIdentity, offset: UInt64)? {
        guard allocation.isUsed, allocation.usableSize >= 8 else { return nil }
        let memory = core.addressSpace
        if let first = memory.readU64(allocation.address), let type = typeOf(first) { return (type, 0) }
        guard let offset = objectOffsets.offset(ofBlockSize: allocation.blockSize), offset + 8 <= allocation.usableSize,
              let word = memory.readU64(allocation.address + offset), let type = typeOf(word) else { return nil }
        return (type, offset)
    }

    /// "Class::member.path" of the word at `offset` of the allocation at `holder`, whose object
    /// starts at its first word or behind an allocator header.
    func member(ofAllocationAt holder: UInt64, offset: UInt64) -> String? {
        guard let table, let index = table.index(containing: holder),
              let object = objectType(of: table.allocations[index]), offset >= object.offset,
              let vptr = core.addressSpace.readU64(holder + object.offset) else { return nil }
        return memberOf(vptr, offset - object.offset)
    }

    /// "THD", or "THD at +24" for an object behind an allocator header.
    public func objectTypeName(of allocation: Allocation) -> String? {
        objectType(of: allocation).map { ObjectOffsets.name($0.type.name, offset: $0.offset) }
    }

    static func completeness(of core: CoreFile) -> [String] {
        var warnings: [String] = []
        if core.threads.isEmpty {
            warnings.append("the core has no thread notes: registers and stacks are not roots, so some objects reported leaked may be anchored")
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
              var chain = ReferenceChain(address: address, reachability: reachability, roots: roots, symbolize: symbolize,
                                         describeMember: { holder, offset in member(ofAllocationAt: holder, offset: offset) },
                                         describeFrame: describeFrame) else { return nil }
        chain.core = core.path
        if chain.liveness != .anchored { chain.warnings = completenessWarnings }
        return chain
    }
}
