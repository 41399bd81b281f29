import Foundation

/// A progress line on stderr for long reads. Only when asked to or when stderr is a terminal,
/// so logs and tests never see it; stdout, where JSON goes, is never touched.
final class Progress {
    private let label: String
    private let enabled: Bool
    private let onTerminal: Bool
    private let total: UInt64?
    private let started: Double
    private var lastShown: Double
    private var shownAny = false

    init(label: String, total: UInt64?, requested: Bool) {
        self.label = label
        self.total = total
        onTerminal = isatty(2) != 0
        enabled = requested || onTerminal
        started = Self.now()
        lastShown = started
    }

    /// `read` compressed bytes consumed, `produced` core bytes written.
    func update(read: UInt64, produced: UInt64) {
        guard enabled else { return }
        let now = Self.now()
        // A terminal line redraws often; a log gets a line a second.
        guard now - lastShown >= (onTerminal ? 0.25 : 1.0) else { return }
        lastShown = now
        show(read: read, produced: produced, now: now, final: false)
    }

    func finish(read: UInt64, produced: UInt64) {
        guard enabled, shownAny else { return }
        show(read: read, produced: produced, now: Self.now(), final: true)
    }

    private func show(read: UInt64, produced: UInt64, now: Double, final: Bool) {
        shownAny = true
        let seconds = max(now - started, 0.001)
        var line = "heapscan: \(label): \(Self.megabytes(produced)) MB"
        if let total, total > 0, !final {
            line += " (\(min(100, read * 100 / total))% of input)"
        }
        line += String(format: ", %.0f MB/s", Double(produced) / 1_000_000 / seconds)
        if final { line += String(format: " in %.1f s", seconds) }
        let text = onTerminal ? "\r" + line + "\u{1B}[K" + (final ? "\n" : "") : line + "\n"
        fputs(text, stderr)
    }

    private static func megabytes(_ bytes: UInt64) -> String {
        String(format: "%.0f", Double(bytes) / 1_000_000)
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
