import CElfutils

/// One non-static data member or base class of a DWARF struct, class or union.
struct DwarfDataMember {
    /// The DW_TAG_member or DW_TAG_inheritance entry itself.
    let entry: UnsafeMutablePointer<Dwarf_Die>
    let type: UnsafeMutablePointer<Dwarf_Die>
    /// Byte offset inside the enclosing type.
    let offset: UInt64
    let isBase: Bool
    var isBitField: Bool { dwarf_hasattr(entry, UInt32(DW_AT_bit_size)) != 0 }
}

enum DwarfDataMembers {
    /// Calls `body` with each data member and base of `type` in declaration order while it
    /// returns true. Returns false when a member cannot be read exactly (a virtual base, a
    /// location that is an expression, no type): callers that need every member give up there.
    @discardableResult
    static func forEach(of type: UnsafeMutablePointer<Dwarf_Die>, _ body: (DwarfDataMember) -> Bool) -> Bool {
        var child = Dwarf_Die()
        guard dwarf_child(type, &child) == 0 else { return true }
        repeat {
            let tag = Int(dwarf_tag(&child))
            guard tag == Int(DW_TAG_member) || tag == Int(DW_TAG_inheritance),
                  dwarf_hasattr(&child, UInt32(DW_AT_external)) == 0,
                  dwarf_hasattr(&child, UInt32(DW_AT_declaration)) == 0 else { continue }
            if tag == Int(DW_TAG_inheritance) && dwarf_hasattr(&child, UInt32(DW_AT_virtuality)) != 0 { return false }
            var offset: Dwarf_Word = 0
            var attribute = Dwarf_Attribute()
            if dwarf_attr(&child, UInt32(DW_AT_data_member_location), &attribute) != nil,
               dwarf_formudata(&attribute, &offset) != 0 { return false }
            var typeAttribute = Dwarf_Attribute()
            var memberType = Dwarf_Die()
            guard dwarf_attr_integrate(&child, UInt32(DW_AT_type), &typeAttribute) != nil,
                  dwarf_formref_die(&typeAttribute, &memberType) != nil else { return false }
            let keepGoing = body(DwarfDataMember(entry: &child, type: &memberType, offset: offset,
                                                 isBase: tag == Int(DW_TAG_inheritance)))
            if !keepGoing { return true }
        } while withUnsafeMutablePointer(to: &child, { dwarf_siblingof($0, $0) }) == 0
        return true
    }
}
