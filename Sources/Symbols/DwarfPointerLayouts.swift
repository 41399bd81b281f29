import CElfutils

extension ModuleSet {
    /// The pointer layouts of the classes named in `names` (qualified, as the demangler prints
    /// them), from the module's DWARF. A class whose layout cannot be read exactly (a virtual
    /// base, a declaration without definition, a size that is not whole words) is left out, so it
    /// is scanned conservatively. Pointees are not resolved here (see `typedView`).
    public func dwarfPointerLayouts(of module: Module, names: Set<String>) -> [String: PointerLayout] {
        var layouts: [String: PointerLayout] = [:]
        forEachClassDefinition(in: module, names: names) { name, die in
            guard let built = PointerLayoutBuilder.layOut(die) else { return false }
            layouts[name] = built.layout { _ in -1 }
            return true
        }
        return layouts
    }
}

/// A libstdc++ node-based container: links declared as pointers to `base` point to whole nodes
/// (named inside `container` by `typedef`).
struct NodeContainer {
    let container: String
    let typedef: String
    let node: String
    let base: String

    static let all = [
        NodeContainer(container: "_Rb_tree<", typedef: "_Link_type", node: "_Rb_tree_node<", base: "_Rb_tree_node_base"),
        NodeContainer(container: "_Hashtable<", typedef: "__node_ptr", node: "_Hash_node<", base: "_Hash_node_base"),
        NodeContainer(container: "_List_base<", typedef: "_Node", node: "_List_node<", base: "_List_node_base"),
    ]
}

/// What a declared pointer points to.
enum DeclaredPointee {
    /// A struct.
    case object(Dwarf_Die)
    /// A pointer to a struct: the element of a `std::vector<T*>`'s buffer.
    case pointer(Dwarf_Die)
}

/// Walks a DWARF type and collects the words of it that can hold a pointer, what struct each
/// declared pointer points to, and where the type holds structs of its own.
struct PointerLayoutBuilder {
    private(set) var marked: [Bool]
    /// Words marked as declared pointers, and words marked for any other reason (an integer, a
    /// union, raw storage): a word is a declared pointer when only the first marked it.
    private var declaredPointer: [Bool]
    private var loose: [Bool]
    /// What each word points to, when one declaration says so and nothing contradicts it.
    private var pointee: [DeclaredPointee?]
    private var pointeeConflict: [Bool]
    private(set) var subobjects: [TypedSubobject] = []
    private(set) var opaque: [Range<UInt64>] = []
    private(set) var failed = false
    /// The node types of the libstdc++ containers being laid out, by the base their links are
    /// declared to point to (`_Rb_tree_node_base*`, `_Hash_node_base*`, `_List_node_base*`):
    /// every link points to a whole node, except the ones to the container's own header.
    private var nodeTypes: [String: Dwarf_Die] = [:]
    let size: UInt64
    /// Nested types deeper than this are not believed (a malformed or recursive type).
    private static let maxDepth = 40
    /// Arrays of more elements than this that can hold pointers are taken whole.
    private static let maxReplicatedSlots = 1 << 16

    init(size: UInt64) {
        self.size = size
        marked = [Bool](repeating: false, count: Int(clamping: (size + 7) / 8))
        declaredPointer = marked
        loose = marked
        pointeeConflict = marked
        pointee = [DeclaredPointee?](repeating: nil, count: marked.count)
    }

    /// The layout of the struct or class `die`, or nil when it cannot be read exactly.
    static func layOut(_ die: UnsafeMutablePointer<Dwarf_Die>) -> PointerLayoutBuilder? {
        let size = dwarf_bytesize(die)
        guard size > 0, size % 8 == 0 else { return nil }
        var builder = PointerLayoutBuilder(size: UInt64(size))
        if let name = dwarf_diename(die).map({ String(cString: $0) }),
           let shape = NodeContainer.all.first(where: { name.hasPrefix($0.node) }) {
            builder.nodeTypes[shape.base] = die.pointee
        }
        builder.add(type: die, at: 0, depth: 0)
        return builder.failed ? nil : builder
    }

    var slots: [UInt32] { marked.indices.filter { marked[$0] }.map { UInt32($0) } }

    func isDeclaredPointer(slot: Int) -> Bool { declaredPointer[slot] && !loose[slot] }

    /// What the word at `slot` points to, when it is known.
    func pointee(slot: Int) -> DeclaredPointee? { pointeeConflict[slot] ? nil : pointee[slot] }

    /// The finished layout; `id` names the layout of a pointee (-1 for none).
    func layout(pointeeID id: (DeclaredPointee) -> Int32) -> PointerLayout {
        let slots = self.slots
        return PointerLayout(size: size, pointerSlots: slots,
                             isDeclaredPointer: slots.map { isDeclaredPointer(slot: Int($0)) },
                             pointees: slots.map { slot in pointee(slot: Int(slot)).map(id) ?? -1 },
                             subobjects: subobjects.enumerated().sorted {
                                 ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset)
                             }.map(\.element),
                             opaque: opaque)
    }

    private mutating func mark(from offset: UInt64, bytes: UInt64, declaredPointer isPointer: Bool = false,
                               pointee target: DeclaredPointee? = nil) {
        guard bytes > 0 else { return }
        let first = Int(clamping: offset / 8)
        let last = Int(clamping: (offset &+ bytes &- 1) / 8)
        guard first < marked.count else { return }
        for slot in first...min(last, marked.count - 1) {
            // A word two declarations cover (overlapping members) points to nothing known.
            if marked[slot] {
                pointeeConflict[slot] = true
            } else if let target, offset % 8 == 0 {
                pointee[slot] = target
            }
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
            mark(from: offset, bytes: 8, declaredPointer: true, pointee: declaredPointee(of: &peeled))
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
        case Int(DW_TAG_union_type):
            addUnion(&peeled, at: offset)
        default:
            // Anything else: every word it covers may hold a pointer.
            addOpaque(&peeled, at: offset)
        }
    }

    private mutating func addOpaque(_ die: UnsafeMutablePointer<Dwarf_Die>, at offset: UInt64) {
        var size: Dwarf_Word = 0
        guard dwarf_aggregate_size(die, &size) == 0 else {
            failed = true
            return
        }
        mark(from: offset, bytes: size)
        opaque.append(offset..<(offset &+ size))
    }

    /// Every word of a union may hold a pointer; when exactly one alternative is a pointer to a
    /// struct (`union { int64_t i; double d; Blob *blob; }`), that is what a pointer there is.
    private mutating func addUnion(_ die: UnsafeMutablePointer<Dwarf_Die>, at offset: UInt64) {
        var pointerAlternatives = 0
        var target: DeclaredPointee?
        DwarfDataMembers.forEach(of: die) { member in
            var peeled = Dwarf_Die()
            guard dwarf_peel_type(member.type, &peeled) == 0 else { return true }
            let tag = Int(dwarf_tag(&peeled))
            if tag == Int(DW_TAG_pointer_type) || tag == Int(DW_TAG_reference_type) {
                pointerAlternatives += 1
                target = member.offset == 0 ? declaredPointee(of: &peeled) : nil
            } else if tag != Int(DW_TAG_base_type) && tag != Int(DW_TAG_enumeration_type) {
                pointerAlternatives += 2
            }
            return true
        }
        let before = marked.count > Int(offset / 8) ? marked[Int(offset / 8)] : true
        addOpaque(die, at: offset)
        if pointerAlternatives == 1, let target, offset % 8 == 0, !before, Int(offset / 8) < marked.count {
            pointee[Int(offset / 8)] = target
        }
    }

    /// What a pointer type points to, when a typed scan of it would be exact: a struct (see
    /// `structPointee`), or a pointer to one (the buffer of a `std::vector<T*>`).
    private func declaredPointee(of pointer: UnsafeMutablePointer<Dwarf_Die>) -> DeclaredPointee? {
        var attribute = Dwarf_Attribute()
        var target = Dwarf_Die()
        var peeled = Dwarf_Die()
        guard dwarf_attr_integrate(pointer, UInt32(DW_AT_type), &attribute) != nil,
              dwarf_formref_die(&attribute, &target) != nil, dwarf_peel_type(&target, &peeled) == 0 else { return nil }
        if dwarf_tag(&peeled) == Int32(DW_TAG_pointer_type) {
            return structPointee(of: &peeled).map(DeclaredPointee.pointer)
        }
        return structPointee(of: pointer).map(DeclaredPointee.object)
    }

    /// The struct a pointer type points to, when a typed scan of it would be exact: a complete
    /// struct or class of at least a word without a vtable (an object with one names its own
    /// type by its vptr).
    private func structPointee(of pointer: UnsafeMutablePointer<Dwarf_Die>) -> Dwarf_Die? {
        var attribute = Dwarf_Attribute()
        var target = Dwarf_Die()
        var peeled = Dwarf_Die()
        guard dwarf_attr_integrate(pointer, UInt32(DW_AT_type), &attribute) != nil,
              dwarf_formref_die(&attribute, &target) != nil, dwarf_peel_type(&target, &peeled) == 0 else { return nil }
        let tag = Int(dwarf_tag(&peeled))
        guard tag == Int(DW_TAG_structure_type) || tag == Int(DW_TAG_class_type),
              dwarf_hasattr(&peeled, UInt32(DW_AT_declaration)) == 0, dwarf_bytesize(&peeled) >= 8 else { return nil }
        if !nodeTypes.isEmpty, let name = dwarf_diename(&peeled).map({ String(cString: $0) }), let node = nodeTypes[name] {
            return node
        }
        return Self.isPolymorphic(&peeled, depth: 0) ? nil : peeled
    }

    private static func isPolymorphic(_ die: UnsafeMutablePointer<Dwarf_Die>, depth: Int) -> Bool {
        guard depth < maxDepth else { return true }
        var polymorphic = false
        DwarfDataMembers.forEach(of: die) { member in
            if member.isBase {
                var base = Dwarf_Die()
                polymorphic = dwarf_peel_type(member.type, &base) != 0 || isPolymorphic(&base, depth: depth + 1)
            } else if let name = dwarf_diename(member.entry), String(cString: name).hasPrefix("_vptr") {
                polymorphic = true
            }
            return !polymorphic
        }
        return polymorphic
    }

    private mutating func addMembers(of die: UnsafeMutablePointer<Dwarf_Die>, at offset: UInt64, depth: Int) {
        if dwarf_hasattr(die, UInt32(DW_AT_declaration)) != 0 {
            failed = true
            return
        }
        let name = dwarf_diename(die).map { String(cString: $0) }
        if let name { subobjects.append(TypedSubobject(offset: offset, type: TypeKey(name: name, size: UInt64(dwarf_bytesize(die))))) }
        // A std::string holds one pointer; its length and local buffer never do.
        if let name, name.hasPrefix("basic_string<") {
            mark(from: offset, bytes: 8, declaredPointer: true)
            return
        }
        let outerNodes = nodeTypes
        defer { nodeTypes = outerNodes }
        if let name, let shape = NodeContainer.all.first(where: { name.hasPrefix($0.container) }),
           let node = Self.nodeType(of: die, typedef: shape.typedef) {
            nodeTypes[shape.base] = node
        }
        let readable = DwarfDataMembers.forEach(of: die) { member in
            // Bit-fields are integers narrower than a pointer.
            guard !member.isBitField else { return true }
            if Self.isRawStorage(member: member.entry) {
                // libstdc++'s node and make_shared storage holds its template argument for as
                // long as the node or control block lives.
                if var stored = Self.storedType(of: member.type) {
                    add(type: &stored, at: offset &+ member.offset, depth: depth + 1)
                    return !failed
                }
                // Bytes an object is constructed in (optional, small-buffer storage): whatever
                // lives there may hold pointers.
                addOpaque(member.type, at: offset &+ member.offset)
                return !failed
            }
            add(type: member.type, at: offset &+ member.offset, depth: depth + 1)
            return !failed
        }
        if !readable { failed = true }
    }

    /// The `T` of libstdc++'s `__aligned_membuf<T>` / `__aligned_buffer<T>` (the storage of map,
    /// set, list and hash nodes and of make_shared's control block), when it fits the storage.
    private static func storedType(of storage: UnsafeMutablePointer<Dwarf_Die>) -> Dwarf_Die? {
        var peeled = Dwarf_Die()
        guard dwarf_peel_type(storage, &peeled) == 0,
              let name = dwarf_diename(&peeled).map({ String(cString: $0) }),
              name.hasPrefix("__aligned_membuf<") || name.hasPrefix("__aligned_buffer<") else { return nil }
        var child = Dwarf_Die()
        guard dwarf_child(&peeled, &child) == 0 else { return nil }
        repeat {
            guard dwarf_tag(&child) == Int32(DW_TAG_template_type_parameter) else { continue }
            var attribute = Dwarf_Attribute()
            var stored = Dwarf_Die()
            var storedSize: Dwarf_Word = 0
            guard dwarf_attr_integrate(&child, UInt32(DW_AT_type), &attribute) != nil,
                  dwarf_formref_die(&attribute, &stored) != nil, dwarf_aggregate_size(&stored, &storedSize) == 0,
                  storedSize <= Dwarf_Word(max(0, dwarf_bytesize(&peeled))) else { return nil }
            return stored
        } while withUnsafeMutablePointer(to: &child, { dwarf_siblingof($0, $0) }) == 0
        return nil
    }

    /// The node type a container class names by its typedef (`_Link_type`, `__node_ptr`: a
    /// pointer to the node; `_Node`: the node).
    private static func nodeType(of container: UnsafeMutablePointer<Dwarf_Die>, typedef: String) -> Dwarf_Die? {
        var child = Dwarf_Die()
        guard dwarf_child(container, &child) == 0 else { return nil }
        repeat {
            guard dwarf_tag(&child) == Int32(DW_TAG_typedef),
                  dwarf_diename(&child).map({ String(cString: $0) }) == typedef else { continue }
            var named = Dwarf_Die()
            guard dwarf_peel_type(&child, &named) == 0 else { return nil }
            var node = named
            if dwarf_tag(&named) == Int32(DW_TAG_pointer_type) {
                var attribute = Dwarf_Attribute()
                var target = Dwarf_Die()
                guard dwarf_attr_integrate(&named, UInt32(DW_AT_type), &attribute) != nil,
                      dwarf_formref_die(&attribute, &target) != nil, dwarf_peel_type(&target, &node) == 0 else { return nil }
            }
            let tag = dwarf_tag(&node)
            guard tag == Int32(DW_TAG_structure_type) || tag == Int32(DW_TAG_class_type),
                  dwarf_hasattr(&node, UInt32(DW_AT_declaration)) == 0 else { return nil }
            return node
        } while withUnsafeMutablePointer(to: &child, { dwarf_siblingof($0, $0) }) == 0
        return nil
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
        one.nodeTypes = nodeTypes
        one.add(type: &element, at: 0, depth: depth + 1)
        guard !one.failed else {
            failed = true
            return
        }
        let elementSlots = one.slots
        let count = total / elementSize
        if count &* UInt64(one.subobjects.count + elementSlots.count) > UInt64(Self.maxReplicatedSlots)
            || (elementSize % 8 != 0 && !elementSlots.isEmpty) {
            if !elementSlots.isEmpty { mark(from: offset, bytes: total) }
            opaque.append(offset..<(offset &+ total))
            return
        }
        for index in 0..<count {
            let start = offset &+ index &* elementSize
            for subobject in one.subobjects {
                subobjects.append(TypedSubobject(offset: start &+ subobject.offset, type: subobject.type))
            }
            for range in one.opaque { opaque.append((start &+ range.lowerBound)..<(start &+ range.upperBound)) }
            for slot in elementSlots {
                mark(from: start &+ UInt64(slot) &* 8, bytes: 8, declaredPointer: one.isDeclaredPointer(slot: Int(slot)),
                     pointee: one.pointee(slot: Int(slot)))
            }
        }
    }
}
