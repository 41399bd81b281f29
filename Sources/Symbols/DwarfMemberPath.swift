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
        var child = Dwarf_Die()
        guard dwarf_child(&peeled, &child) == 0 else { return nil }
        repeat {
            let childTag = Int(dwarf_tag(&child))
            guard childTag == Int(DW_TAG_member) || childTag == Int(DW_TAG_inheritance),
                  dwarf_hasattr(&child, UInt32(DW_AT_external)) == 0,
                  dwarf_hasattr(&child, UInt32(DW_AT_declaration)) == 0 else { continue }
            var location: Dwarf_Word = 0
            var attribute = Dwarf_Attribute()
            if dwarf_attr(&child, UInt32(DW_AT_data_member_location), &attribute) != nil,
               dwarf_formudata(&attribute, &location) != 0 { continue }
            var typeAttribute = Dwarf_Attribute()
            var memberType = Dwarf_Die()
            var size: Dwarf_Word = 0
            guard dwarf_attr_integrate(&child, UInt32(DW_AT_type), &typeAttribute) != nil,
                  dwarf_formref_die(&typeAttribute, &memberType) != nil,
                  dwarf_aggregate_size(&memberType, &size) == 0,
                  offset >= location, offset - location < size else { continue }
            let inner = memberPath(in: &memberType, offset: offset - location, depth: depth + 1)
            if childTag == Int(DW_TAG_inheritance) {
                let base = dwarf_diename(&memberType).map { String(cString: $0) } ?? "base"
                return inner.map { "\(base)::\($0)" } ?? base
            }
            let name = dwarf_diename(&child).map { String(cString: $0) } ?? "(anonymous)"
            guard let inner else { return name }
            return inner.hasPrefix("[") ? name + inner : name + "." + inner
        } while withUnsafeMutablePointer(to: &child, { dwarf_siblingof($0, $0) }) == 0
        return nil
    }
}
