import CElfutils
import ELFCore

extension ModuleSet {
    /// Words of a module's data that DWARF says cannot hold a pointer: the characters, floats,
    /// narrow integers and padding of its global and static variables (namespace-level
    /// definitions at a fixed address), at run-time addresses, ascending and disjoint. Words no
    /// variable covers, and variables whose type cannot be laid out exactly, are left out, so
    /// they stay roots; pointers, pointer-sized integers and unions always stay roots.
    public func nonPointerDataRanges(of module: Module) -> [Range<UInt64>] {
        var ranges: [Range<UInt64>] = []
        forEachFixedVariable(in: module) { start, type, size in
            var builder = PointerLayoutBuilder(size: size)
            builder.add(type: type, at: 0, depth: 0)
            guard !builder.failed else { return }
            let pointerSlots = Set(builder.slots)
            // A type with a pointer in it is aligned for it; a misaligned one has none, and only the
            // words wholly inside it are its own.
            guard start % 8 == 0 || pointerSlots.isEmpty else { return }
            let firstWord = (start &+ 7) & ~7
            let end = start &+ size
            var word = firstWord
            while word &+ 8 <= end {
                if !pointerSlots.contains(UInt32((word &- start) / 8)) || start % 8 != 0 {
                    if let last = ranges.last, last.upperBound == word {
                        ranges[ranges.count - 1] = last.lowerBound..<(word &+ 8)
                    } else {
                        ranges.append(word..<(word &+ 8))
                    }
                }
                word &+= 8
            }
        }
        return AddressRanges.merged(ranges)
    }

    /// Calls `body` with the run-time address, type and size of each global and static variable
    /// of `module` that lives at a fixed address (namespace-level definitions).
    func forEachFixedVariable(in module: Module,
                              _ body: (UInt64, UnsafeMutablePointer<Dwarf_Die>, UInt64) -> Void) {
        guard module.hasDebugInfo, let handle = handles[module.index] else { return }
        var bias: Dwarf_Addr = 0
        var unit = dwfl_module_nextcu(handle, nil, &bias)
        while let current = unit {
            Self.visitVariables(in: current, bias: bias, depth: 0, body)
            unit = dwfl_module_nextcu(handle, current, &bias)
        }
    }

    private static func visitVariables(in parent: UnsafeMutablePointer<Dwarf_Die>, bias: Dwarf_Addr, depth: Int,
                                       _ body: (UInt64, UnsafeMutablePointer<Dwarf_Die>, UInt64) -> Void) {
        guard depth < 16 else { return }
        var child = Dwarf_Die()
        guard dwarf_child(parent, &child) == 0 else { return }
        repeat {
            switch Int(dwarf_tag(&child)) {
            case Int(DW_TAG_namespace):
                visitVariables(in: &child, bias: bias, depth: depth + 1, body)
            case Int(DW_TAG_variable):
                var typeAttribute = Dwarf_Attribute()
                var type = Dwarf_Die()
                var size: Dwarf_Word = 0
                guard let address = fixedAddress(of: &child),
                      dwarf_attr_integrate(&child, UInt32(DW_AT_type), &typeAttribute) != nil,
                      dwarf_formref_die(&typeAttribute, &type) != nil,
                      dwarf_aggregate_size(&type, &size) == 0, size >= 8, size < 1 << 32 else { continue }
                body(address &+ bias, &type, size)
            default:
                break
            }
        } while withUnsafeMutablePointer(to: &child, { dwarf_siblingof($0, $0) }) == 0
    }

    /// The link-time address of a variable whose location is one DW_OP_addr (not a thread-local,
    /// register or frame variable), and that is defined here rather than declared. A variable
    /// declared `alignas` is left out: that is how storage for an object built later with
    /// placement new is declared (as `PointerLayoutBuilder` treats such members).
    private static func fixedAddress(of variable: UnsafeMutablePointer<Dwarf_Die>) -> Dwarf_Addr? {
        guard dwarf_hasattr(variable, UInt32(DW_AT_declaration)) == 0,
              dwarf_hasattr(variable, UInt32(DW_AT_alignment)) == 0 else { return nil }
        var location = Dwarf_Attribute()
        var operations: UnsafeMutablePointer<Dwarf_Op>?
        var count = 0
        guard dwarf_attr(variable, UInt32(DW_AT_location), &location) != nil,
              dwarf_getlocation(&location, &operations, &count) == 0, count == 1, let operations,
              operations[0].atom == UInt8(DW_OP_addr) else { return nil }
        return operations[0].number
    }
}
