import CElfutils
import Foundation

/// A symbol of a module's table (.symtab, else .dynsym), at its run-time address.
public struct ModuleSymbol: Sendable, Hashable {
    public let name: String
    public let address: UInt64
    public let size: UInt64
    /// STT_OBJECT, STT_FUNC, … (the low nibble of st_info).
    public let type: UInt8

    public static let typeObject: UInt8 = 1
}

extension ModuleSet {
    /// The module's symbols whose names start with one of `prefixes` (checked on the C string,
    /// so large tables cost no Swift strings for the symbols skipped).
    public func symbols(of module: Module, withPrefixes prefixes: [String]) -> [ModuleSymbol] {
        let handle = handles[module.index]
        let count = dwfl_module_getsymtab(handle)
        guard count > 0 else { return [] }
        let cPrefixes = prefixes.filter { !$0.isEmpty }.map { Array($0.utf8CString.dropLast()) }
        var result: [ModuleSymbol] = []
        for index in 0..<count {
            var symbol = GElf_Sym()
            var address: GElf_Addr = 0
            var section: GElf_Word = 0
            guard let name = dwfl_module_getsym_info(handle, index, &symbol, &address, &section, nil, nil),
                  symbol.st_shndx != UInt16(SHN_UNDEF) else { continue }
            let matches = cPrefixes.contains { prefix in
                prefix.withUnsafeBufferPointer { strncmp(name, $0.baseAddress!, prefix.count) == 0 }
            }
            guard matches else { continue }
            result.append(ModuleSymbol(name: String(cString: name), address: address, size: symbol.st_size,
                                       type: symbol.st_info & 0xf))
        }
        return result
    }
}
