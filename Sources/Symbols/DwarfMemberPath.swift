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
        // An empty base (an allocator) shares its offset with the first data member after it:
        // a base is the answer only when no member holds the offset.
        var baseHolding: String?
        DwarfDataMembers.forEach(of: &peeled) { member in
            var size: Dwarf_Word = 0
            guard dwarf_aggregate_size(member.type, &size) == 0, offset >= member.offset, offset - member.offset < size
            else { return true }
            let inner = memberPath(in: member.type, offset: offset - member.offset, depth: depth + 1)
            if member.isBase {
                // Template arguments of a base repeat the member's type: the bare name reads better.
                let base = dwarf_diename(member.type).map { String(cString: $0).prefix { $0 != "<" } }.map(String.init) ?? "base"
                guard let inner else {
                    baseHolding = baseHolding ?? base
                    return true
                }
                path = "\(base)::\(inner)"
            } else {
                let name = dwarf_diename(member.entry).map { String(cString: $0) } ?? "(anonymous)"
                path = inner.map { $0.hasPrefix("[") ? name + $0 : name + "." + $0 } ?? name
            }
            return false
        }
        return depth == 0 ? path ?? baseHolding : path
    }
}
