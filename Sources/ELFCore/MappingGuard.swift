import CMappingGuard
import Synchronization

/// Turns the SIGBUS of a read past the end of a file that shrank while mapped (a crash
/// handler re-dumping the core, `cp` over it, log rotation) into a fact heapscan can report:
/// the pages past the new end read as zeros from then on, and `faulted` says so. Whoever
/// reports results checks it first (`CoreError.changedWhileRead`). A signal handler rather
/// than `fstat` between phases because a single scan pass can already be the one that
/// faults; rather than reading through a private copy because cores are often larger than
/// memory. The handler itself is C (`CMappingGuard`): only async-signal-safe code may run in it.
public final class MappingGuard: Sendable {
    private let slot: Int32
    public let name: String

    private static let watched = Mutex<[Int32: String]>([:])
    /// Files that faulted and are unmapped already (their slot may be reused).
    private static let faultedEarlier = Mutex<[String]>([])

    /// Watches `bytes` (a read-only mapping of the file called `name`); nil when the range
    /// is empty or every slot is taken.
    public init?(watching bytes: UnsafeRawBufferPointer, name: String) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        let slot = heapscan_guard_watch(base, bytes.count)
        guard slot >= 0 else { return nil }
        self.slot = slot
        self.name = name
        Self.watched.withLock { $0[slot] = name }
    }

    public var faulted: Bool { heapscan_guard_faulted(slot) != 0 }

    /// Call before the range is unmapped.
    public func stop() {
        if faulted { Self.faultedEarlier.withLock { $0.append(name) } }
        heapscan_guard_unwatch(slot)
        Self.watched.withLock { $0[slot] = nil }
    }

    /// The name of a watched file a read faulted in, if any: the last check before heapscan
    /// exits, whatever the command.
    public static func firstFaultedName() -> String? {
        guard heapscan_guard_any_faulted() != 0 else { return nil }
        if let name = faultedEarlier.withLock({ $0.first }) { return name }
        return watched.withLock { names in
            names.sorted { $0.key < $1.key }.first { heapscan_guard_faulted($0.key) != 0 }?.value
        }
    }
}
