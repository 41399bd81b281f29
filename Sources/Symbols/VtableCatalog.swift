/// Every polymorphic class whose vtable a module's symbol table names (`_ZTV…` in .symtab, else
/// .dynsym), with all address points of each vtable group, plus classes found later from RTTI
/// alone. Looks up `vtable address point → class`.
public struct VtableCatalog: Sendable {
    public private(set) var classes: [VtableClass] = []
    /// Address points of the ABI's `__*class_type_info` vtables: every polymorphic class's
    /// typeinfo object starts with one of these (empty when libstdc++'s symbols are unknown).
    public private(set) var typeinfoVtables: Set<UInt64> = []
    private var addressPoints: [UInt64: AddressPointHit] = [:]
    /// Classes by typeinfo address (several when a vtable has copies, e.g. copy relocations),
    /// for attaching further address points found in memory.
    private var byTypeinfo: [UInt64: [Int]] = [:]

    public init() {}

    /// The catalog from the symbol tables of `modules`, vtable contents read through `memory`.
    public init(modules: ModuleSet, memory: ProcessMemory) {
        var groups: [(symbol: ModuleSymbol, module: Module)] = []
        for module in modules.modules where module.symbolCount > 0 {
            for symbol in modules.symbols(of: module, withPrefixes: ["_ZTV"])
            where symbol.type == ModuleSymbol.typeObject && symbol.size >= 16 && symbol.size % 8 == 0 {
                if TypeInfo.classTypeInfoVtables.contains(symbol.name) {
                    // These classes have no virtual bases: the address point follows the
                    // offset-to-top and typeinfo slots.
                    typeinfoVtables.insert(symbol.address &+ 16)
                }
                groups.append((symbol, module))
            }
        }
        var typeinfos: [UInt64: TypeInfo?] = [:]
        for (symbol, module) in groups {
            guard let entry = Self.readGroup(symbol, module: module, memory: memory, modules: modules,
                                             typeinfoVtables: typeinfoVtables, cache: &typeinfos) else { continue }
            add(entry)
        }
    }

    /// The class and kind of an address point, when the catalog knows it.
    public func lookup(_ addressPoint: UInt64) -> AddressPointHit? { addressPoints[addressPoint] }

    /// The classes whose typeinfo object is at `address`.
    public func classIndices(typeinfo address: UInt64) -> [Int] { byTypeinfo[address] ?? [] }

    /// The class a secondary address point found in memory belongs to: of the classes of its
    /// module with its typeinfo, the one whose primary address point is closest below it
    /// (address points of one vtable group follow the primary), else one whose primary is
    /// still unknown.
    public func owner(ofSecondary addressPoint: UInt64, typeinfo: UInt64, module: String?) -> Int? {
        let candidates = classIndices(typeinfo: typeinfo).filter { classes[$0].module == module }
        let below = candidates.compactMap { index in
            classes[index].primaryAddressPoint.flatMap { $0 < addressPoint ? (index, $0) : nil }
        }
        if let closest = below.max(by: { $0.1 < $1.1 }) { return closest.0 }
        return candidates.first { classes[$0].primaryAddressPoint == nil }
    }

    /// Adds a class; address points already known keep their first owner. Returns its index.
    @discardableResult
    public mutating func add(_ entry: VtableClass) -> Int {
        let index = classes.count
        classes.append(entry)
        if let primary = entry.primaryAddressPoint, addressPoints[primary] == nil {
            addressPoints[primary] = AddressPointHit(classIndex: index, isPrimary: true)
        }
        for secondary in entry.secondaryAddressPoints where addressPoints[secondary] == nil {
            addressPoints[secondary] = AddressPointHit(classIndex: index, isPrimary: false)
        }
        byTypeinfo[entry.typeinfo, default: []].append(index)
        return index
    }

    /// Records another address point of a known class.
    public mutating func attach(_ addressPoint: UInt64, toClass index: Int, primary: Bool) {
        guard addressPoints[addressPoint] == nil else { return }
        if primary {
            classes[index].primaryAddressPoint = addressPoint
        } else {
            classes[index].secondaryAddressPoints.append(addressPoint)
        }
        addressPoints[addressPoint] = AddressPointHit(classIndex: index, isPrimary: primary)
    }

    /// A vtable group's address points: each slot holding the class's typeinfo pointer is
    /// followed by one; the first is the primary. The typeinfo is recognised by its name.
    static func readGroup(_ symbol: ModuleSymbol, module: Module, memory: ProcessMemory, modules: ModuleSet,
                          typeinfoVtables: Set<UInt64>, cache: inout [UInt64: TypeInfo?]) -> VtableClass? {
        // Symbol tables name copies of versioned symbols `_ZTV…@GLIBCXX_3.4.21`.
        let mangledType = String(symbol.name.dropFirst(4).prefix { $0 != "@" })
        guard symbol.size <= 1 << 20, let bytes = memory.read(symbol.address, count: Int(symbol.size)) else { return nil }
        let words = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
        }
        var typeinfo: TypeInfo?
        for word in words where word != 0 && modules.contains(word) {
            let info: TypeInfo?
            if let cached = cache[word] {
                info = cached
            } else {
                info = TypeInfo.read(at: word, memory: memory, typeinfoVtables: typeinfoVtables)
                cache[word] = info
            }
            if let info, info.mangledType == mangledType {
                typeinfo = info
                break
            }
        }
        guard let typeinfo else { return nil }
        var points: [UInt64] = []
        for (slot, word) in words.enumerated() where word == typeinfo.address && slot + 1 < words.count {
            points.append(symbol.address + UInt64(slot + 1) * 8)
        }
        guard let primary = points.first else { return nil }
        return VtableClass(name: typeinfo.name, mangledType: mangledType, typeinfo: typeinfo.address,
                           primaryAddressPoint: primary, secondaryAddressPoints: Array(points.dropFirst()),
                           vtableSymbol: symbol.address, module: module.shortName, source: .symbols)
    }
}
