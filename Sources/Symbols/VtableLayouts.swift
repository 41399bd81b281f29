/// The typed view reachability uses: for each vtable address point found in the heap, the
/// pointer layout of its class from the DWARF of the module that holds the vtable. Classes
/// without DWARF (stripped modules, RTTI only) have none and stay conservative.
public enum VtableLayouts {
    public static func layouts(of vptrs: some Sequence<UInt64>, identifier: TypeIdentifier) -> [UInt64: PointerLayout] {
        let modules = identifier.modules
        var classes: [(vptr: UInt64, module: Int, name: String)] = []
        var namesByModule: [Int: Set<String>] = [:]
        for vptr in vptrs {
            guard let module = modules.module(containing: vptr), module.hasDebugInfo,
                  let type = identifier.primaryClass(of: vptr) else { continue }
            classes.append((vptr, module.index, type.name))
            namesByModule[module.index, default: []].insert(type.name)
        }
        var found: [Int: [String: PointerLayout]] = [:]
        for (moduleIndex, names) in namesByModule {
            found[moduleIndex] = modules.dwarfPointerLayouts(of: modules.modules[moduleIndex], names: names)
        }
        var layouts: [UInt64: PointerLayout] = [:]
        for entry in classes {
            if let layout = found[entry.module]?[entry.name] { layouts[entry.vptr] = layout }
        }
        return layouts
    }
}
