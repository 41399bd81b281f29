import CElfutils

extension ModuleSet {
    /// `DW_AT_byte_size` of the class types named in `names` (qualified, as the demangler prints
    /// them), from the module's DWARF. Walks namespaces and classes only, never function bodies,
    /// and stops once every name is found.
    public func dwarfByteSizes(of module: Module, names: Set<String>) -> [String: UInt64] {
        var sizes: [String: UInt64] = [:]
        forEachClassDefinition(in: module, names: names) { name, die in
            let size = dwarf_bytesize(die)
            guard size > 0 else { return false }
            sizes[name] = UInt64(size)
            return true
        }
        return sizes
    }

    /// Calls `body` with the first complete definition of each class named in `names` until it
    /// has accepted one per name (`body` returns whether it did).
    func forEachClassDefinition(in module: Module, names: Set<String>,
                                _ body: (String, UnsafeMutablePointer<Dwarf_Die>) -> Bool) {
        guard module.hasDebugInfo, !names.isEmpty else { return }
        let handle = handles[module.index]
        var found = Set<String>()
        var bias: Dwarf_Addr = 0
        var unit = dwfl_module_nextcu(handle, nil, &bias)
        while let current = unit, found.count < names.count {
            Self.visitClasses(in: current, prefix: "", names: names, found: &found, body)
            unit = dwfl_module_nextcu(handle, current, &bias)
        }
    }

    private static func visitClasses(in parent: UnsafeMutablePointer<Dwarf_Die>, prefix: String, names: Set<String>,
                                     found: inout Set<String>,
                                     _ body: (String, UnsafeMutablePointer<Dwarf_Die>) -> Bool) {
        var child = Dwarf_Die()
        guard dwarf_child(parent, &child) == 0 else { return }
        repeat {
            let tag = Int(dwarf_tag(&child))
            if tag == Int(DW_TAG_namespace) {
                let name = dwarf_diename(&child).map { String(cString: $0) } ?? "(anonymous namespace)"
                visitClasses(in: &child, prefix: prefix + name + "::", names: names, found: &found, body)
            } else if tag == Int(DW_TAG_class_type) || tag == Int(DW_TAG_structure_type) {
                guard let cName = dwarf_diename(&child) else { continue }
                let name = prefix + String(cString: cName)
                if dwarf_hasattr(&child, UInt32(DW_AT_declaration)) == 0 {
                    if !found.contains(name), names.contains(name), body(name, &child) { found.insert(name) }
                    visitClasses(in: &child, prefix: name + "::", names: names, found: &found, body)
                }
            }
        } while withUnsafeMutablePointer(to: &child, { dwarf_siblingof($0, $0) }) == 0 && found.count < names.count
    }

    /// Calls `body` with every struct and class definition of `module` (at namespace level and
    /// nested in other classes).
    func forEachStructDefinition(in module: Module, _ body: (UnsafeMutablePointer<Dwarf_Die>) -> Void) {
        guard module.hasDebugInfo, let handle = handles[module.index] else { return }
        var bias: Dwarf_Addr = 0
        var unit = dwfl_module_nextcu(handle, nil, &bias)
        while let current = unit {
            Self.visitStructs(in: current, depth: 0, body)
            unit = dwfl_module_nextcu(handle, current, &bias)
        }
    }

    private static func visitStructs(in parent: UnsafeMutablePointer<Dwarf_Die>, depth: Int,
                                     _ body: (UnsafeMutablePointer<Dwarf_Die>) -> Void) {
        guard depth < 16 else { return }
        var child = Dwarf_Die()
        guard dwarf_child(parent, &child) == 0 else { return }
        repeat {
            let tag = Int(dwarf_tag(&child))
            if tag == Int(DW_TAG_namespace) {
                visitStructs(in: &child, depth: depth + 1, body)
            } else if (tag == Int(DW_TAG_class_type) || tag == Int(DW_TAG_structure_type))
                        && dwarf_hasattr(&child, UInt32(DW_AT_declaration)) == 0 {
                body(&child)
                visitStructs(in: &child, depth: depth + 1, body)
            }
        } while withUnsafeMutablePointer(to: &child, { dwarf_siblingof($0, $0) }) == 0
    }
}
