import CElfutils

/// The typed view reachability uses: pointer layouts from DWARF for the dynamic types found in
/// the heap (by vtable address point), for the structs their pointers are declared to point to
/// (and theirs, transitively), and the declared pointee of module data words. Classes and
/// modules without DWARF (stripped, RTTI only) have none and stay conservative.
public struct TypedView: Sendable {
    /// By id; a `PointerLayout.pointees` entry is an index here.
    public let layouts: [PointerLayout]
    public let layoutByVptr: [UInt64: Int32]
    /// Module data words declared as pointers to a laid-out struct, ascending, with its layout.
    public let rootAddresses: [UInt64]
    public let rootPointees: [Int32]

    public static let empty = TypedView(layouts: [], layoutByVptr: [:], rootAddresses: [], rootPointees: [])

    public init(layouts: [PointerLayout], layoutByVptr: [UInt64: Int32], rootAddresses: [UInt64] = [],
                rootPointees: [Int32] = []) {
        self.layouts = layouts
        self.layoutByVptr = layoutByVptr
        self.rootAddresses = rootAddresses
        self.rootPointees = rootPointees
    }

    /// This view with layouts for more classes, by vptr (learned from the heap where DWARF has none).
    public func adding(_ byVptr: [UInt64: PointerLayout]) -> TypedView {
        guard !byVptr.isEmpty else { return self }
        var layouts = layouts
        var layoutByVptr = layoutByVptr
        for (vptr, layout) in byVptr.sorted(by: { $0.key < $1.key }) where layoutByVptr[vptr] == nil {
            layoutByVptr[vptr] = Int32(layouts.count)
            layouts.append(layout)
        }
        return TypedView(layouts: layouts, layoutByVptr: layoutByVptr, rootAddresses: rootAddresses, rootPointees: rootPointees)
    }

    /// At most this many layouts: a program's reachable struct graph is far smaller, and a
    /// malformed DWARF graph must not grow without bound.
    static let maxLayouts = 1 << 16

    /// The view for the vptrs seen in the heap.
    public static func view(of vptrs: some Sequence<UInt64>, identifier: TypeIdentifier) -> TypedView {
        let modules = identifier.modules
        var classes: [(vptr: UInt64, module: Int, name: String)] = []
        var namesByModule: [Int: Set<String>] = [:]
        for vptr in vptrs {
            guard let module = modules.module(containing: vptr), module.hasDebugInfo,
                  let type = identifier.primaryClass(of: vptr) else { continue }
            classes.append((vptr, module.index, type.name))
            namesByModule[module.index, default: []].insert(type.name)
        }
        var building = TypedViewBuilding()
        var classIDs: [Int: [String: Int32]] = [:]
        for (moduleIndex, names) in namesByModule {
            modules.forEachClassDefinition(in: modules.modules[moduleIndex], names: names) { name, die in
                guard PointerLayoutBuilder.layOut(die) != nil,
                      let id = building.id(of: .object(die.pointee), module: moduleIndex) else { return false }
                classIDs[moduleIndex, default: [:]][name] = id
                return true
            }
        }
        var roots: [(address: UInt64, pointee: Int32)] = []
        for module in modules.modules where module.hasDebugInfo {
            modules.forEachFixedVariable(in: module) { start, type, size in
                guard start % 8 == 0 else { return }
                var builder = PointerLayoutBuilder(size: size)
                builder.add(type: type, at: 0, depth: 0)
                guard !builder.failed else { return }
                for slot in builder.slots {
                    guard let pointee = builder.pointee(slot: Int(slot)),
                          let id = building.id(of: pointee, module: module.index) else { continue }
                    roots.append((start &+ UInt64(slot) &* 8, id))
                }
            }
        }
        building.layOutPending()
        building.findEmbedders(in: modules)
        var byVptr: [UInt64: Int32] = [:]
        for entry in classes {
            if let id = classIDs[entry.module]?[entry.name], building.isLaidOut(id) { byVptr[entry.vptr] = id }
        }
        roots = roots.filter { building.isLaidOut($0.pointee) }.sorted { $0.address < $1.address }
        return TypedView(layouts: building.finishedLayouts(), layoutByVptr: byVptr,
                         rootAddresses: roots.map(\.address), rootPointees: roots.map(\.pointee))
    }
}

/// Lays out the structs the view reaches, each DWARF entry once, breadth first from the heap's
/// classes and the module data.
struct TypedViewBuilding {
    private var layouts: [PointerLayout?] = []
    private var idByEntry: [UInt64: Int32] = [:]
    private var pending: [(id: Int32, die: Dwarf_Die, module: Int)] = []
    private var moduleOfLayout: [Int] = []
    /// Keys of the laid-out structs some larger struct of their module begins with.
    private var embedded = Set<TypeKey>()

    /// The id of the layout of `pointee`, queued to be laid out when new; nil past `maxLayouts`.
    mutating func id(of pointee: DeclaredPointee, module: Int) -> Int32? {
        switch pointee {
        case var .object(die):
            let key = UInt64(module) << 48 | (dwarf_dieoffset(&die) & 0x7fff_ffff_ffff)
            if let known = idByEntry[key] { return known }
            guard layouts.count < TypedView.maxLayouts else { return nil }
            let id = Int32(layouts.count)
            layouts.append(nil)
            moduleOfLayout.append(module)
            idByEntry[key] = id
            pending.append((id, die, module))
            return id
        case var .pointer(die):
            // One word declared to point to the struct: a buffer of them is scanned word by word.
            let key = UInt64(module) << 48 | 1 << 47 | (dwarf_dieoffset(&die) & 0x7fff_ffff_ffff)
            if let known = idByEntry[key] { return known }
            guard layouts.count < TypedView.maxLayouts, let element = id(of: .object(die), module: module) else { return nil }
            let id = Int32(layouts.count)
            layouts.append(PointerLayout(size: 8, pointerSlots: [0], isDeclaredPointer: [true], pointees: [element],
                                         subobjects: [], opaque: [], isPointerElement: true, mayBeEmbedded: false))
            moduleOfLayout.append(module)
            idByEntry[key] = id
            return id
        }
    }

    mutating func layOutPending() {
        var next = 0
        while next < pending.count {
            var (id, die, module) = pending[next]
            next += 1
            guard let built = PointerLayoutBuilder.layOut(&die) else { continue }
            let layout = built.layout { self.id(of: $0, module: module) ?? -1 }
            layouts[Int(id)] = layout
        }
        pending.removeAll()
    }

    /// Walks the struct definitions of the modules that own a layout, once, for structs that
    /// begin with a laid-out one and are larger.
    mutating func findEmbedders(in modules: ModuleSet) {
        var wanted = Set<TypeKey>()
        for layout in layouts.compactMap({ $0 }) where !layout.isPointerElement {
            if let key = layout.ownKey { wanted.insert(key) }
        }
        guard !wanted.isEmpty else { return }
        for moduleIndex in Set(moduleOfLayout) {
            modules.forEachStructDefinition(in: modules.modules[moduleIndex]) { die in
                let size = UInt64(max(0, dwarf_bytesize(die)))
                DwarfDataMembers.forEach(of: die) { member in
                    guard member.offset == 0 else { return false }
                    var first = Dwarf_Die()
                    guard dwarf_peel_type(member.type, &first) == 0, let name = dwarf_diename(&first) else { return false }
                    let firstSize = UInt64(max(0, dwarf_bytesize(&first)))
                    let key = TypeKey(name: String(cString: name), size: firstSize)
                    if firstSize < size, wanted.contains(key) { embedded.insert(key) }
                    return false
                }
            }
        }
    }

    func isLaidOut(_ id: Int32) -> Bool { id >= 0 && Int(id) < layouts.count && layouts[Int(id)] != nil }

    /// The layouts by id, with pointers to structs that could not be laid out pointing to none.
    func finishedLayouts() -> [PointerLayout] {
        layouts.map { layout in
            guard let layout else { return PointerLayout(size: 0, pointerSlots: []) }
            return PointerLayout(size: layout.size, pointerSlots: layout.pointerSlots,
                                 isDeclaredPointer: layout.isDeclaredPointer,
                                 pointees: layout.pointees.map { isLaidOut($0) ? $0 : -1 },
                                 subobjects: layout.subobjects, opaque: layout.opaque,
                                 isPointerElement: layout.isPointerElement,
                                 mayBeEmbedded: layout.ownKey.map(embedded.contains) ?? true)
        }
    }
}
