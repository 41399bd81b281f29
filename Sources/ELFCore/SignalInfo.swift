/// NT_SIGINFO: the signal that stopped or killed the process, and for faults the address.
public struct SignalInfo: Sendable {
    public let signal: Int32
    public let code: Int32
    public let errorNumber: Int32
    /// `si_addr`, meaningful for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP.
    public let faultAddress: UInt64?

    static let faultSignals: Set<Int32> = [4, 5, 7, 8, 11]

    init?(_ desc: ByteReader) {
        guard let signo = desc.i32(0), let errno = desc.i32(4), let code = desc.i32(8) else { return nil }
        signal = signo
        errorNumber = errno
        self.code = code
        faultAddress = Self.faultSignals.contains(signo) ? desc.u64(16) : nil
    }

    /// The conventional name, e.g. "SIGSEGV".
    public static func name(of signal: Int32) -> String {
        let names: [Int32: String] = [
            1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
            7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
            13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 17: "SIGCHLD", 18: "SIGCONT",
            19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 24: "SIGXCPU",
            25: "SIGXFSZ", 31: "SIGSYS",
        ]
        return names[signal] ?? (signal == 0 ? "none" : "signal \(signal)")
    }
}
