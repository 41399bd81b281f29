/// What a piece of the address space is, for a person hunting a leak.
public enum RegionLabel: String, CaseIterable, Sendable, Codable {
    /// The brk heap and anonymous writable mappings: where malloc'd memory lives.
    case heap
    /// A thread's stack (it contains that thread's stack pointer).
    case stack
    /// Backed by a file (from NT_FILE), including a module's .bss that follows its data.
    case file
    case vdso
    case vsyscall
    /// Anything else: guard pages, read-only anonymous memory.
    case other
}
