import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `scanning 1.2 GiB of 6.0 GiB (20%)` on stderr, redrawn in place, only when stderr is a
/// terminal and only once the scan has run for a second (short scans stay silent).
final class ProgressLine: Sendable {
    private let total: UInt64
    private let label: String
    private let started = ContinuousClock.now
    private let enabled: Bool
    private let state = Mutex<(done: UInt64, lastDraw: ContinuousClock.Instant?, drawn: Bool)>((0, nil, false))

    init(total: UInt64, label: String) {
        self.total = total
        self.label = label
        enabled = isatty(2) != 0
    }

    func advance(_ bytes: UInt64) {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard now - started > .seconds(1) else {
            state.withLock { $0.done += bytes }
            return
        }
        let line: String? = state.withLock { state in
            state.done += bytes
            if let last = state.lastDraw, now - last < .milliseconds(200) { return nil }
            state.lastDraw = now
            state.drawn = true
            let percent = total > 0 ? state.done * 100 / total : 100
            return "\r\(label) \(Self.size(state.done)) of \(Self.size(total)) (\(percent)%)\u{1b}[K"
        }
        if let line { fputs(line, stderr) }
    }

    func finish() {
        if state.withLock({ $0.drawn }) { fputs("\r\u{1b}[K", stderr) }
    }

    private static func size(_ bytes: UInt64) -> String {
        let gib = Double(bytes) / Double(1 << 30)
        if gib >= 1 { return String(Int(gib * 10)).insertingDecimal() + " GiB" }
        return "\(bytes >> 20) MiB"
    }
}

private extension String {
    /// "123" → "12.3", without Foundation's formatters.
    func insertingDecimal() -> String {
        count > 1 ? String(dropLast()) + "." + String(suffix(1)) : "0." + self
    }
}
