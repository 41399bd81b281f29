/// A polymorphic class as its vtable group shows it: the typeinfo, and the address points an
/// object's vptrs hold. The primary address point is in the object's first word; secondary ones
/// are in base-class subobjects (multiple and virtual inheritance) of the same objects.
public struct VtableClass: Sendable, Hashable {
    public enum Source: String, Sendable, Codable {
        /// From a `_ZTV` symbol of the module's symbol table.
        case symbols
        /// From the memory alone: the typeinfo pointer before an address point.
        case rtti
    }

    /// The demangled name, e.g. `shapes::Circle`.
    public let name: String
    /// The mangled type name as typeinfo holds it (no `_ZTS`/`_ZTV` prefix), e.g. `N6shapes6CircleE`.
    public let mangledType: String
    /// Address of the typeinfo object (`_ZTI…`).
    public let typeinfo: UInt64
    /// Nil only for a class found from memory alone whose objects showed only secondary vptrs.
    public var primaryAddressPoint: UInt64?
    public var secondaryAddressPoints: [UInt64]
    /// Start of the `_ZTV` group, when a symbol names it.
    public let vtableSymbol: UInt64?
    /// The module holding the address points (not necessarily the typeinfo: copy relocations).
    public let module: String?
    public let source: Source

    /// `_ZTV` + the mangled type: the vtable's symbol name.
    public var mangledVtable: String { "_ZTV" + mangledType }
}

/// What a word that is a vtable address point says about the object holding it.
public struct AddressPointHit: Sendable, Hashable {
    /// Index into the catalog's classes.
    public let classIndex: Int
    /// True for the address point in an object's first word (the complete object's vptr).
    public let isPrimary: Bool

    public init(classIndex: Int, isPrimary: Bool) {
        self.classIndex = classIndex
        self.isPrimary = isPrimary
    }
}
