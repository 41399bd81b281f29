import CElfutils

extension ModuleSet {
    /// The member of class `name` at byte `offset`, as a path: "timers._M_h._M_buckets",
    /// "slots[3].data", "Callback::owner" for a base's member. Nil without DWARF for the class.
    public func memberPath(ofClass name: String, in module: Module, offset: UInt64) -> String? {
        var path: String?
        forEachClassDefinition(in: module, names: [name]) { _, die in
            path = Self.memberPath(in: die, offset: offset, depth: 0)
            return true
        }
        return path
    }

    private static func memberPath(in type: UnsafeMutablePointer<Dwarf_Die>, offset: UInt64, depth: Int) -> String? {
        guard depth < 16 else { return nil }
        var peeled = Dwarf_Die()
        guard dwarf_peel_type(type, &peeled) == 0 else { return nil }
        let tag = Int(dwarf_tag(&peeled))
        if tag == Int(DW_TAG_array_type) {
            var typeAttribute = Dwarf_Attribute()
            var element = Dwarf_Die()
            var elementSize: Dwarf_Word = 0
            guard dwarf_attr_integrate(&peeled, UInt32(DW_AT_type), &typeAttribute) != nil,
                  dwarf_formref_die(&typeAttribute, &element) != nil,
                  dwarf_aggregate_size(&element, &elementSize) == 0, elementSize > 0 else { return nil }
            let index = offset / elementSize
            let inner = memberPath(in: &element, offset: offset % elementSize, depth: depth + 1)
            return "[\(index)]" + (inner.map { $0.hasPrefix("[") ? $0 : "." + $0 } ?? "")
        }
        guard tag == Int(DW_TAG_structure_type) || tag == Int(DW_TAG_class_type) || tag == Int(DW_TAG_union_type) else {
            return nil
        }
        var path: String?
        DwarfDataMembers.forEach(of: &peeled) { member in
            var size: Dwarf_Word = 0
            guard dwarf_aggregate_size(member.type, &size) == 0, offset >= member.offset, offset - member.offset < size
            else { return true }
            let inner = memberPath(in: member.type, offset: offset - member.offset, depth: depth + 1)
            if member.isBase {
                let base = dwarf_diename(member.type).map { String(cString: $0) } ?? "base"
                path = inner.map { "\(base)::\($0)" } ?? base
            } else {
                let name = dwarf_diename(member.entry).map { String(cString: $0) } ?? "(anonymous)"
                path = inner.map { $0.hasPrefix("[") ? name + $0 : name + "." + $0 } ?? name
            }
            return false
        }
        return path
    }
}
