import Allocators
import ELFCore

/// What holds each allocation, as far as typed objects tell: the first object with a vtable
/// (at its first word or behind an allocator header) found with a word pointing into it, and
/// that word's offset in the object. `leaks --owners` names an untyped group by its most common
/// owner ("Channel +24": the vector bodies those channels point to). Eight bytes an allocation.
struct BlockOwners {
    /// Per allocation: an index into `types`, or -1 when no typed object points into it.
    private var ownerType: [Int32]
    /// Per allocation: the offset of the pointing word in its object.
    private var ownerField: [UInt32]
    /// The owners' dynamic types and where they sit in their allocations, by index.
    private(set) var types: [(vptr: UInt64, offset: UInt64)] = []
    private var typeIndex: [UInt64: Int32] = [:]
    private let lookup: AllocationLookup

    init(table: AllocationTable) {
        ownerType = [Int32](repeating: -1, count: table.allocations.count)
        ownerField = [UInt32](repeating: 0, count: table.allocations.count)
        lookup = AllocationLookup(table.allocations)
    }

    /// Records the allocations the object at `index` points into, unless something owns them
    /// already. `object` is the object's bytes (from its vptr to the allocation's end).
    mutating func scan(_ object: UnsafeRawBufferPointer, of index: Int, vptr: UInt64, offset: UInt64) {
        var type: Int32 = -1
        for slot in 1..<max(1, object.count / 8) {
            let target = lookup.find(object.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self))
            guard target >= 0, target != index, ownerType[target] < 0 else { continue }
            if type < 0 { type = typeNumber(vptr: vptr, offset: offset) }
            ownerType[target] = type
            ownerField[target] = UInt32(slot * 8)
        }
    }

    private mutating func typeNumber(vptr: UInt64, offset: UInt64) -> Int32 {
        // Objects behind a header and at +0 of one class are told apart by the offset's bit.
        let key = vptr ^ (offset << 56)
        if let known = typeIndex[key] { return known }
        let number = Int32(types.count)
        types.append((vptr, offset))
        typeIndex[key] = number
        return number
    }

    /// The owner of allocation `index`: type number and field offset, or nil.
    func owner(of index: Int) -> SuspectGroup.Owner? {
        let type = ownerType[index]
        return type < 0 ? nil : SuspectGroup.Owner(type: type, field: ownerField[index])
    }
}
