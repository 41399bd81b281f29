import Foundation

/// What /proc says about who a process is, for NT_PRPSINFO and NT_PRSTATUS.
struct ProcessIdentity {
    var state: Character = "?"
    var parentPid: Int32 = 0
    var processGroup: Int32 = 0
    var session: Int32 = 0
    var flags: UInt64 = 0
    var nice: Int = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    /// `comm`: the kernel's 15-byte name.
    var command = ""
    /// The command line, arguments separated by spaces.
    var arguments = ""

    /// Reads /proc/PID/{stat,status,cmdline}; a file that cannot be read leaves its fields at
    /// their defaults (the process may be exiting), except that no process at all is an error.
    init(pid: Int32) throws {
        guard let stat = ProcFile.text("/proc/\(pid)/stat") else {
            throw CoreSourceError("no such process")
        }
        // comm may hold spaces and parentheses: it ends at the last ')'.
        if let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") {
            command = String(stat[stat.index(after: open)..<close])
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 16 {
                state = fields[0].first ?? "?"
                parentPid = Int32(fields[1]) ?? 0
                processGroup = Int32(fields[2]) ?? 0
                session = Int32(fields[3]) ?? 0
                flags = UInt64(fields[6]) ?? 0
                nice = Int(fields[16]) ?? 0
            }
        }
        if let status = ProcFile.text("/proc/\(pid)/status") {
            for line in status.split(separator: "\n") {
                let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
                if fields.first == "Uid:", fields.count > 1 { uid = UInt32(fields[1]) ?? 0 }
                if fields.first == "Gid:", fields.count > 1 { gid = UInt32(fields[1]) ?? 0 }
            }
        }
        if let cmdline = ProcFile.bytes("/proc/\(pid)/cmdline") {
            arguments = String(decoding: cmdline.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
        }
    }
}
