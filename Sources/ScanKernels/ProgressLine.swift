import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One phase's progress on stderr, never stdout: `marking: 1.2 M allocations, 3 s` or
/// `scanning 1.2 GiB of 6.0 GiB (20%), 4 s, about 16 s left`. On a terminal it is redrawn in
/// place once the phase has run for a second (short phases stay silent); elsewhere only with
/// `--progress` (`ProgressLine.forced`), as a line every few seconds and one when the phase ends.
public final class ProgressLine: Sendable {
    public enum Unit: Sendable {
        case bytes
        case allocations
    }

    /// Set once by the command line's `--progress`: show progress even when stderr is no terminal.
    public static let forced = Atomic<Bool>(false)

    private let total: UInt64?
    private let label: String
    private let unit: Unit
    private let started = ContinuousClock.now
    private let onTerminal: Bool
    private let enabled: Bool
    private let state = Mutex<(done: UInt64, lastDraw: ContinuousClock.Instant?, drawn: Bool)>((0, nil, false))

    /// `total` nil: the phase's size is not known in advance (no percentage, no estimate).
    public init(total: UInt64?, label: String, unit: Unit = .bytes) {
        self.total = total
        self.label = label
        self.unit = unit
        onTerminal = isatty(2) != 0
        enabled = onTerminal || Self.forced.load(ordering: .relaxed)
    }

    public func advance(_ amount: UInt64) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let line: String? = state.withLock { state in
            state.done += amount
            guard now - started > .seconds(1) else { return nil }
            let interval: Duration = onTerminal ? .milliseconds(200) : .seconds(5)
            if let last = state.lastDraw, now - last < interval { return nil }
            state.lastDraw = now
            state.drawn = true
            return describe(done: state.done, now: now, final: false)
        }
        if let line { fputs(onTerminal ? "\r\(line)\u{1b}[K" : "\(line)\n", stderr) }
    }

    public func finish() {
        guard enabled else { return }
        let (drawn, done) = state.withLock { ($0.drawn, $0.done) }
        if onTerminal {
            if drawn { fputs("\r\u{1b}[K", stderr) }
        } else if drawn || Self.forced.load(ordering: .relaxed) {
            fputs(describe(done: done, now: .now, final: true) + "\n", stderr)
        }
    }

    private func describe(done: UInt64, now: ContinuousClock.Instant, final: Bool) -> String {
        let elapsed = now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var line = "heapscan: \(label): \(amount(done))"
        if let total, !final {
            line += " of \(amount(total))"
            if total > 0 {
                let share = min(1, Double(done) / Double(total))
                line += " (\(Int(share * 100))%)"
                if share > 0.01 { line += ", about \(Int((seconds / share - seconds).rounded())) s left" }
            }
        }
        return line + (final ? " in \(Int(seconds.rounded())) s" : ", \(Int(seconds)) s")
    }

    private func amount(_ value: UInt64) -> String {
        switch unit {
        case .bytes:
            let gib = Double(value) / Double(1 << 30)
            return gib >= 1 ? String(Int(gib * 10)).insertingDecimal() + " GiB" : "\(value >> 20) MiB"
        case .allocations:
            return value >= 100_000 ? String(value / 100_000).insertingDecimal() + " M allocations" : "\(value) allocations"
        }
    }
}

private extension String {
    /// "123" → "12.3", without Foundation's formatters.
    func insertingDecimal() -> String {
        count > 1 ? String(dropLast()) + "." + String(suffix(1)) : "0." + self
    }
}
