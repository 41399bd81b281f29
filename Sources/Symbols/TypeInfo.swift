/// Itanium C++ ABI RTTI as found in memory: a typeinfo object is
/// `{ vptr of a __cxxabiv1 class_type_info class, const char *name, … }`, and a vtable address
/// point is preceded by `{ offset-to-top, typeinfo pointer }`.
public struct TypeInfo: Sendable, Hashable {
    public let address: UInt64
    /// The mangled type name the typeinfo holds, without GCC's leading `*` (internal linkage).
    public let mangledType: String
    public let name: String

    /// The longest type name worth reading; real ones are far shorter.
    static let maxNameLength = 4096

    /// Reads and validates the typeinfo at `address`: its name must be a class type's mangled
    /// name that demangles. `typeinfoVtables`, when known (address points of the
    /// `__cxxabiv1::__*class_type_info` vtables), must contain its vptr.
    public static func read(at address: UInt64, memory: ProcessMemory, typeinfoVtables: Set<UInt64>) -> TypeInfo? {
        guard address & 7 == 0, let vptr = memory.readU64(address) else { return nil }
        if !typeinfoVtables.isEmpty && !typeinfoVtables.contains(vptr) { return nil }
        guard let namePointer = memory.readU64(address &+ 8),
              let raw = memory.readCString(namePointer, maxLength: maxNameLength) else { return nil }
        let mangled = raw.hasPrefix("*") ? String(raw.dropFirst()) : raw
        // Class types: a source name (digits), nested (N), substitution (S) or local (Z).
        guard let first = mangled.utf8.first,
              (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) || first == UInt8(ascii: "N")
                || first == UInt8(ascii: "S") || first == UInt8(ascii: "Z"),
              let name = Demangler.demangle(mangled) else { return nil }
        return TypeInfo(address: address, mangledType: mangled, name: name)
    }

    /// The ABI's typeinfo classes for class types; every polymorphic class's typeinfo is one.
    public static let classTypeInfoVtables = [
        "_ZTVN10__cxxabiv117__class_type_infoE",
        "_ZTVN10__cxxabiv120__si_class_type_infoE",
        "_ZTVN10__cxxabiv121__vmi_class_type_infoE",
    ]
}
