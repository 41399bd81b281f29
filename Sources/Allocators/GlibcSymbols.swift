import Symbols

extension GlibcHeap {
    /// `main_arena`'s address from libc's symbol table, when libdwfl finds one that has it
    /// (libc's own .symtab, or its debuginfo such as Debian's libc6-dbg); nil otherwise, and
    /// the walker then finds main_arena by its shape.
    public static func mainArenaSymbol(in modules: ModuleSet) -> UInt64? {
        for module in modules.modules where module.shortName.hasPrefix("libc.so") || module.shortName.hasPrefix("libc-") {
            let symbols = modules.symbols(of: module, withPrefixes: ["main_arena"])
            if let symbol = symbols.first(where: { $0.name == "main_arena" && $0.type == ModuleSymbol.typeObject }) {
                return symbol.address
            }
        }
        return nil
    }
}
