/// NT_PRPSINFO: who the process was.
public struct ProcessInfo: Sendable {
    public let pid: Int32
    public let parentPid: Int32
    public let uid: UInt32
    public let gid: UInt32
    public let state: Character
    /// The executable's short name (truncated to 15 bytes by the kernel).
    public let command: String
    /// The command line, space separated and truncated to 80 bytes by the kernel.
    public let arguments: String

    init?(_ desc: ByteReader) {
        guard let sname = desc.u8(1), let uid = desc.u32(16), let gid = desc.u32(20),
              let pid = desc.i32(24), let ppid = desc.i32(28),
              let fname = desc.fixedString(40, length: 16),
              let args = desc.fixedString(56, length: 80) else { return nil }
        self.pid = pid
        self.parentPid = ppid
        self.uid = uid
        self.gid = gid
        self.state = sname == 0 ? "?" : Character(Unicode.Scalar(sname))
        self.command = fname
        self.arguments = args.trimmingTrailingSpaces()
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
