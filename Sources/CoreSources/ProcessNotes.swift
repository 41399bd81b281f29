/// The PT_NOTE contents of a core of a live process, laid out as the kernel writes them
/// (`struct elf_prstatus`, `struct elf_prpsinfo`, NT_AUXV, NT_FILE), so gdb and ELFCore read
/// them as they read a kernel core.
struct ProcessNotes {
    static let prstatus: UInt32 = 1
    static let prpsinfo: UInt32 = 3
    static let auxv: UInt32 = 6
    static let file: UInt32 = 0x4649_4c45
    /// Where `pr_reg` starts in `struct elf_prstatus` on 64-bit Linux.
    static let registersOffset = 112

    private(set) var writer = ByteWriter()

    var bytes: [UInt8] { writer.bytes }

    mutating func add(type: UInt32, descriptor: [UInt8]) {
        writer.u32(5)  // "CORE" and its NUL
        writer.u32(UInt32(descriptor.count))
        writer.u32(type)
        writer.fixed("CORE", length: 8)
        writer.raw(descriptor)
        writer.align(4)
    }

    /// NT_PRSTATUS of one thread: ids, the signal it was stopped with, its registers.
    static func prstatus(tid: Int32, identity: ProcessIdentity, signal: Int32, registers: [UInt8]) -> [UInt8] {
        var out = ByteWriter()
        out.i32(signal)          // si_signo
        out.i32(0)               // si_code
        out.i32(0)               // si_errno
        out.u16(UInt16(truncatingIfNeeded: signal))  // pr_cursig
        out.zeros(2)
        out.zeros(16)            // pr_sigpend, pr_sighold
        out.i32(tid)
        out.i32(identity.parentPid)
        out.i32(identity.processGroup)
        out.i32(identity.session)
        out.zeros(64)            // pr_utime, pr_stime, pr_cutime, pr_cstime
        out.raw(registers)
        out.i32(0)               // pr_fpvalid: no NT_PRFPREG is written
        out.zeros(4)
        return out.bytes
    }

    /// NT_PRPSINFO: who the process is.
    static func prpsinfo(pid: Int32, identity: ProcessIdentity) -> [UInt8] {
        var out = ByteWriter()
        let states: [Character] = ["R", "S", "D", "T", "Z", "W"]
        out.u8(UInt8(states.firstIndex(of: identity.state) ?? 0))
        out.u8(identity.state.asciiValue ?? UInt8(ascii: "?"))
        out.u8(identity.state == "Z" ? 1 : 0)
        out.u8(UInt8(bitPattern: Int8(clamping: identity.nice)))
        out.zeros(4)
        out.u64(identity.flags)
        out.u32(identity.uid)
        out.u32(identity.gid)
        out.i32(pid)
        out.i32(identity.parentPid)
        out.i32(identity.processGroup)
        out.i32(identity.session)
        out.fixed(identity.command, length: 16)
        out.fixed(identity.arguments, length: 80)
        return out.bytes
    }

    /// NT_FILE: every file-backed mapping with its offset in pages, then the names.
    static func fileMappings(_ mappings: [ProcessMapping], pageSize: UInt64) -> [UInt8] {
        let files = mappings.filter(\.isFile)
        var out = ByteWriter()
        out.u64(UInt64(files.count))
        out.u64(pageSize)
        for mapping in files {
            out.u64(mapping.start)
            out.u64(mapping.end)
            out.u64(mapping.fileOffset / pageSize)
        }
        for mapping in files {
            out.raw(Array(mapping.name.utf8))
            out.u8(0)
        }
        return out.bytes
    }
}
