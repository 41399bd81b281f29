import CElfutils
import ELFCore

/// A return address of a recorded stack, named: the function that contains the call, the
/// source line of the call when DWARF has it, and the module.
public struct CallSite: Sendable, Equatable {
    public let returnAddress: UInt64
    /// Demangled function name; nil when no symbol covers the call.
    public let function: String?
    /// Offset of the return address in the function.
    public let offset: UInt64
    /// "file:line" of the call instruction.
    public let sourceLine: String?
    /// Short module name; nil outside every module.
    public let module: String?

    /// "function+0x1c (file.c:12) in module", or "module+0x…" without a symbol, or the address.
    public var description: String {
        guard let module else { return hex(returnAddress) }
        guard let function else { return "\(module)+\(hex(offset))" }
        return "\(function)+\(hex(offset))" + (sourceLine.map { " (\($0))" } ?? "") + " in \(module)"
    }

    /// The function's name, else "module+0x…", else the address: a frame name for folded stacks.
    public var name: String {
        function ?? module.map { "\($0)+\(hex(offset))" } ?? hex(returnAddress)
    }
}

extension ModuleSet {
    /// Names the call before `returnAddress`. The call instruction is looked up (one byte back)
    /// because a call that never returns can be the last instruction of its function.
    public func callSite(returnAddress: UInt64) -> CallSite {
        let call = returnAddress &- 1
        guard let module = module(containing: call), let handle = handles[module.index] else {
            return CallSite(returnAddress: returnAddress, function: nil, offset: 0, sourceLine: nil, module: nil)
        }
        var sourceLine: String?
        if let line = dwfl_module_getsrc(handle, call) {
            var number: Int32 = 0
            if let file = dwfl_lineinfo(line, nil, &number, nil, nil, nil), number > 0 {
                let path = String(cString: file)
                sourceLine = "\(path.split(separator: "/").last.map(String.init) ?? path):\(number)"
            }
        }
        var offset: GElf_Off = 0
        var symbol = GElf_Sym()
        if let name = dwfl_module_addrinfo(handle, call, &offset, &symbol, nil, nil, nil) {
            let raw = String(cString: name)
            return CallSite(returnAddress: returnAddress, function: Demangler.demangle(raw) ?? raw, offset: UInt64(offset) + 1,
                            sourceLine: sourceLine, module: module.shortName)
        }
        return CallSite(returnAddress: returnAddress, function: nil, offset: returnAddress - module.start, sourceLine: sourceLine,
                        module: module.shortName)
    }
}
