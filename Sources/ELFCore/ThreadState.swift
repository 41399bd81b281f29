/// A thread as NT_PRSTATUS records it: id, pending signal, and general registers.
public struct ThreadState: Sendable {
    public let tid: Int32
    public let signal: Int16
    /// Registers by their conventional names, in the architecture's order.
    public let registers: [(name: String, value: UInt64)]
    public let stackPointer: UInt64
    public let programCounter: UInt64
    /// The thread pointer (`fs_base` on x86-64, `tpidr_el0` is not in PRSTATUS on aarch64).
    public let threadPointer: UInt64?

    static let x86Names = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
                           "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
                           "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"]
    static let arm64Names = (0...30).map { "x\($0)" } + ["sp", "pc", "pstate"]
    static let registersOffset: UInt64 = 112

    init?(_ desc: ByteReader, machine: Machine) {
        guard let signal = desc.i16(12), let pid = desc.i32(32) else { return nil }
        let names = machine == .x86_64 ? Self.x86Names : Self.arm64Names
        var registers: [(String, UInt64)] = []
        for (index, name) in names.enumerated() {
            guard let value = desc.u64(Self.registersOffset + UInt64(index) * 8) else { return nil }
            registers.append((name, value))
        }
        self.tid = pid
        self.signal = signal
        self.registers = registers
        func value(_ name: String) -> UInt64 { registers.first { $0.0 == name }?.1 ?? 0 }
        switch machine {
        case .x86_64:
            stackPointer = value("rsp")
            programCounter = value("rip")
            threadPointer = value("fs_base")
        case .aarch64:
            stackPointer = value("sp")
            programCounter = value("pc")
            threadPointer = nil
        }
    }
}
