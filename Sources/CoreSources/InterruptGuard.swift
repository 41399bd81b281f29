#if canImport(Glibc)
import Glibc
#endif

/// The signal that asked heapscan to stop while a process was held, 0 when none did.
/// Written by the handler (any thread), read by the copy loop between chunks.
nonisolated(unsafe) private var pendingInterrupt: Int32 = 0

/// Ctrl-C, SIGTERM, SIGHUP and SIGQUIT while a live process is stopped must not kill heapscan
/// before it resumes that process: they are recorded, the copy stops at the next chunk, the
/// process is detached, and only then is the signal delivered again with its usual effect.
/// (Should heapscan die anyway, the kernel detaches and resumes seized tracees itself.)
final class InterruptGuard {
    private static let signals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    private var previous: [sigaction] = []
    private var restored = false

    init() {
        pendingInterrupt = 0
        for signal in Self.signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { pendingInterrupt = $0 }
            sigemptyset(&action.sa_mask)
            var old = sigaction()
            sigaction(signal, &action, &old)
            previous.append(old)
        }
    }

    /// The recorded signal, if any.
    var interruption: Int32? { pendingInterrupt == 0 ? nil : pendingInterrupt }

    /// Puts the previous handlers back and delivers a recorded signal. Call after detaching.
    func restore() {
        guard !restored else { return }
        restored = true
        for (signal, old) in zip(Self.signals, previous) {
            var old = old
            sigaction(signal, &old, nil)
        }
        if pendingInterrupt != 0 { raise(pendingInterrupt) }
    }

    deinit { restore() }
}
