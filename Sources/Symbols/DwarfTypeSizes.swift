import CElfutils

extension ModuleSet {
    /// `DW_AT_byte_size` of the class types named in `names` (qualified, as the demangler prints
    /// them), from the module's DWARF. Walks namespaces and classes only, never function bodies,
    /// and stops once every name is found.
    public func dwarfByteSizes(of module: Module, names: Set<String>) -> [String: UInt64] {
        guard module.hasDebugInfo, !names.isEmpty else { return [:] }
        let handle = handles[module.index]
        var sizes: [String: UInt64] = [:]
        var bias: Dwarf_Addr = 0
        var unit = dwfl_module_nextcu(handle, nil, &bias)
        while let current = unit, sizes.count < names.count {
            Self.collectSizes(in: current, prefix: "", names: names, into: &sizes)
            unit = dwfl_module_nextcu(handle, current, &bias)
        }
        return sizes
    }

    private static func collectSizes(in parent: UnsafeMutablePointer<Dwarf_Die>, prefix: String,
                                     names: Set<String>, into sizes: inout [String: UInt64]) {
        var child = Dwarf_Die()
        guard dwarf_child(parent, &child) == 0 else { return }
        repeat {
            let tag = Int(dwarf_tag(&child))
            if tag == Int(DW_TAG_namespace) {
                let name = dwarf_diename(&child).map { String(cString: $0) } ?? "(anonymous namespace)"
                collectSizes(in: &child, prefix: prefix + name + "::", names: names, into: &sizes)
            } else if tag == Int(DW_TAG_class_type) || tag == Int(DW_TAG_structure_type) {
                guard let cName = dwarf_diename(&child) else { continue }
                let name = prefix + String(cString: cName)
                if dwarf_hasattr(&child, UInt32(DW_AT_declaration)) == 0 {
                    if sizes[name] == nil, names.contains(name) {
                        let size = dwarf_bytesize(&child)
                        if size > 0 { sizes[name] = UInt64(size) }
                    }
                    collectSizes(in: &child, prefix: name + "::", names: names, into: &sizes)
                }
            }
        } while withUnsafeMutablePointer(to: &child, { dwarf_siblingof($0, $0) }) == 0 && sizes.count < names.count
    }
}
