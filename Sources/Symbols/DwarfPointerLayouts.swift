import CElfutils

extension ModuleSet {
    /// The pointer layouts of the classes named in `names` (qualified, as the demangler prints
    /// them), from the module's DWARF. A class whose layout cannot be read exactly (a virtual
    /// base, a declaration without definition, a size that is not whole words) is left out, so it
    /// is scanned conservatively.
    public func dwarfPointerLayouts(of module: Module, names: Set<String>) -> [String: PointerLayout] {
        var layouts: [String: PointerLayout] = [:]
        forEachClassDefinition(in: module, names: names) { name, die in
            let size = dwarf_bytesize(die)
            guard size > 0, size % 8 == 0 else { return false }
            var builder = PointerLayoutBuilder(size: UInt64(size))
            builder.add(type: die, at: 0, depth: 0)
            guard !builder.failed else { return false }
            layouts[name] = PointerLayout(size: UInt64(size), pointerSlots: builder.slots,
                                          isDeclaredPointer: builder.slots.map { builder.isDeclaredPointer(slot: Int($0)) })
            return true
        }
        return layouts
    }
}

/// Walks a DWARF type and collects the words of it that can hold a pointer.
struct PointerLayoutBuilder {
    private(set) var marked: [Bool]
    /// Words marked as declared pointers, and words marked for any other reason (an integer, a
    /// union, raw storage): a word is a declared pointer when only the first marked it.
    private var declaredPointer: [Bool]
    private var loose: [Bool]
    private(set) var failed = false
    /// Nested types deeper than this are not believed (a malformed or recursive type).
    private static let maxDepth = 40
    /// Arrays of more elements than this that can hold pointers are taken whole.
    private static let maxReplicatedSlots = 1 << 16

    init(size: UInt64) {
        marked = [Bool](repeating: false, count: Int(clamping: (size + 7) / 8))
        declaredPointer = marked
        loose = marked
    }

    var slots: [UInt32] { marked.indices.filter { marked[$0] }.map { UInt32($0) } }

    func isDeclaredPointer(slot: Int) -> Bool { declaredPointer[slot] && !loose[slot] }

    private mutating func mark(from offset: UInt64, bytes: UInt64, declaredPointer isPointer: Bool = false) {
        guard bytes > 0 else { return }
        let first = Int(clamping: offset / 8)
        let last = Int(clamping: (offset &+ bytes &- 1) / 8)
        guard first < marked.count else { return }
        for slot in first...min(last, marked.count - 1) {
            marked[slot] = true
            if isPointer && offset % 8 == 0 { declaredPointer[slot] = true } else { loose[slot] = true }
        }
    }

    mutating func add(type die: UnsafeMutablePointer<Dwarf_Die>, at offset: UInt64, depth: Int) {
        guard depth < Self.maxDepth, !failed else {
            failed = true
            return
        }
        var peeled = Dwarf_Die()
        guard dwarf_peel_type(die, &peeled) == 0 else {
            failed = true
            return
        }
        switch Int(dwarf_tag(&peeled)) {
        case Int(DW_TAG_pointer_type), Int(DW_TAG_reference_type), Int(DW_TAG_rvalue_reference_type):
            mark(from: offset, bytes: 8, declaredPointer: true)
        case Int(DW_TAG_ptr_to_member_type), Int(DW_TAG_enumeration_type):
            break
        case Int(DW_TAG_base_type):
            // Programs keep pointers in pointer-sized integers (uintptr_t, size_t, long).
            var attribute = Dwarf_Attribute()
            var encoding: Dwarf_Word = 0
            if dwarf_attr(&peeled, UInt32(DW_AT_encoding), &attribute) != nil { _ = dwarf_formudata(&attribute, &encoding) }
            let integral = [DW_ATE_address, DW_ATE_signed, DW_ATE_unsigned, DW_ATE_boolean].map(Dwarf_Word.init).contains(encoding)
            if dwarf_bytesize(&peeled) >= 8 && integral { mark(from: offset, bytes: UInt64(dwarf_bytesize(&peeled))) }
        case Int(DW_TAG_structure_type), Int(DW_TAG_class_type):
            addMembers(of: &peeled, at: offset, depth: depth)
        case Int(DW_TAG_array_type):
            addArray(&peeled, at: offset, depth: depth)
        default:
            // Unions and anything else: every word they cover may hold a pointer.
            var size: Dwarf_Word = 0
            guard dwarf_aggregate_size(&peeled, &size) == 0 else {
                failed = true
                return
            }
            mark(from: offset, bytes: size)
        }
    }

    private mutating func addMembers(of die: UnsafeMutablePointer<Dwarf_Die>, at offset: UInt64, depth: Int) {
        if dwarf_hasattr(die, UInt32(DW_AT_declaration)) != 0 {
            failed = true
            return
        }
        // A std::string holds one pointer; its length and local buffer never do.
        if let name = dwarf_diename(die).map({ String(cString: $0) }), name.hasPrefix("basic_string<") {
            mark(from: offset, bytes: 8, declaredPointer: true)
            return
        }
        let readable = DwarfDataMembers.forEach(of: die) { member in
            // Bit-fields are integers narrower than a pointer.
            guard !member.isBitField else { return true }
            if Self.isRawStorage(member: member.entry) {
                // Bytes an object is constructed in (make_shared's control block, optional,
                // small-buffer storage): whatever lives there may hold pointers.
                var size: Dwarf_Word = 0
                guard dwarf_aggregate_size(member.type, &size) == 0 else {
                    failed = true
                    return false
                }
                mark(from: offset &+ member.offset, bytes: size)
                return true
            }
            add(type: member.type, at: offset &+ member.offset, depth: depth + 1)
            return !failed
        }
        if !readable { failed = true }
    }

    /// A member declared with `alignas` (as `__aligned_buffer` and `aligned_storage` are) or named
    /// as libstdc++ names such storage is placement-new storage, not characters.
    private static func isRawStorage(member: UnsafeMutablePointer<Dwarf_Die>) -> Bool {
        if dwarf_hasattr(member, UInt32(DW_AT_alignment)) != 0 { return true }
        guard let name = dwarf_diename(member).map({ String(cString: $0) }) else { return false }
        return ["_M_storage", "__data", "_M_addr", "_M_pod_data", "__buf_"].contains(name)
    }

    private mutating func addArray(_ die: UnsafeMutablePointer<Dwarf_Die>, at offset: UInt64, depth: Int) {
        var total: Dwarf_Word = 0
        var typeAttribute = Dwarf_Attribute()
        var element = Dwarf_Die()
        var elementSize: Dwarf_Word = 0
        guard dwarf_aggregate_size(die, &total) == 0,
              dwarf_attr_integrate(die, UInt32(DW_AT_type), &typeAttribute) != nil,
              dwarf_formref_die(&typeAttribute, &element) != nil,
              dwarf_aggregate_size(&element, &elementSize) == 0 else {
            failed = true
            return
        }
        guard total > 0, elementSize > 0 else { return }
        var one = PointerLayoutBuilder(size: elementSize)
        one.add(type: &element, at: 0, depth: depth + 1)
        guard !one.failed else {
            failed = true
            return
        }
        let elementSlots = one.slots
        guard !elementSlots.isEmpty else { return }
        let count = total / elementSize
        if elementSize % 8 != 0 || count &* UInt64(elementSlots.count) > UInt64(Self.maxReplicatedSlots) {
            mark(from: offset, bytes: total)
            return
        }
        for index in 0..<count {
            for slot in elementSlots {
                mark(from: offset &+ index &* elementSize &+ UInt64(slot) &* 8, bytes: 8,
                     declaredPointer: one.isDeclaredPointer(slot: Int(slot)))
            }
        }
    }
}
