/// Decides whether a word is a vtable address point, and of which class: first from the
/// symbol catalog, else from RTTI alone (stripped files). Answers are memoised, so the cost is
/// one examination per distinct word.
public final class TypeIdentifier {
    public private(set) var catalog: VtableCatalog
    public let modules: ModuleSet
    public let memory: ProcessMemory
    private var answers: [UInt64: AddressPointHit?] = [:]
    private var typeinfos: [UInt64: TypeInfo?] = [:]

    /// Offsets-to-top beyond this are not believed (no object is that large).
    static let maxOffsetToTop: Int64 = 1 << 32

    public init(modules: ModuleSet, memory: ProcessMemory, catalog: VtableCatalog? = nil) {
        self.modules = modules
        self.memory = memory
        self.catalog = catalog ?? VtableCatalog(modules: modules, memory: memory)
    }

    public func identify(_ word: UInt64) -> AddressPointHit? {
        if let known = catalog.lookup(word) { return known }
        if let answer = answers[word] { return answer }
        let answer = identifyFromRTTI(word)
        answers[word] = answer
        return answer
    }

    /// The dynamic type of an object whose first word is `vptr`: nil unless `vptr` is a primary
    /// address point.
    public func primaryClass(of vptr: UInt64) -> VtableClass? {
        guard let hit = identify(vptr), hit.isPrimary else { return nil }
        return catalog.classes[hit.classIndex]
    }

    /// A word W inside a module is an address point when the word before it points to a valid
    /// typeinfo and the one before that is a plausible offset-to-top (0 for the primary).
    private func identifyFromRTTI(_ word: UInt64) -> AddressPointHit? {
        guard word & 7 == 0, word >= 16, let module = modules.module(containing: word),
              let typeinfoAddress = memory.readU64(word - 8), typeinfoAddress != 0,
              modules.contains(typeinfoAddress),
              let rawOffset = memory.readU64(word - 16) else { return nil }
        let offsetToTop = Int64(bitPattern: rawOffset)
        guard offsetToTop <= 0, offsetToTop > -Self.maxOffsetToTop, offsetToTop % 8 == 0 else { return nil }
        let info: TypeInfo?
        if let cached = typeinfos[typeinfoAddress] {
            info = cached
        } else {
            info = TypeInfo.read(at: typeinfoAddress, memory: memory, typeinfoVtables: catalog.typeinfoVtables)
            typeinfos[typeinfoAddress] = info
        }
        guard let info else { return nil }
        let primary = offsetToTop == 0
        if primary, let index = catalog.classIndices(typeinfo: typeinfoAddress).first(where: {
            catalog.classes[$0].primaryAddressPoint == nil && catalog.classes[$0].module == module.shortName
        }) {
            catalog.attach(word, toClass: index, primary: true)
            return AddressPointHit(classIndex: index, isPrimary: true)
        }
        if !primary, let index = catalog.owner(ofSecondary: word, typeinfo: typeinfoAddress, module: module.shortName) {
            catalog.attach(word, toClass: index, primary: false)
            return AddressPointHit(classIndex: index, isPrimary: false)
        }
        let index = catalog.add(VtableClass(
            name: info.name, mangledType: info.mangledType, typeinfo: typeinfoAddress,
            primaryAddressPoint: primary ? word : nil, secondaryAddressPoints: primary ? [] : [word],
            vtableSymbol: nil, module: module.shortName, source: .rtti))
        return AddressPointHit(classIndex: index, isPrimary: primary)
    }
}
