import CElfutils
import ELFCore

extension ModuleSet {
    /// "symbol+0x10 in module" for an address inside a module: the symbol covering it (a global
    /// variable, a vtable, a function), demangled; "module+0x…" when no symbol does.
    public func symbolize(_ address: UInt64) -> String? {
        guard let module = module(containing: address), let handle = handles[module.index] else { return nil }
        var offset: GElf_Off = 0
        var symbol = GElf_Sym()
        if let name = dwfl_module_addrinfo(handle, address, &offset, &symbol, nil, nil, nil) {
            let raw = String(cString: name)
            let readable = Demangler.demangle(raw) ?? raw
            return (offset == 0 ? readable : "\(readable)+\(hex(UInt64(offset)))") + " in \(module.shortName)"
        }
        return "\(module.shortName)+\(hex(address - module.start))"
    }
}
