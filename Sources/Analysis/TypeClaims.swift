import Synchronization

/// The struct each allocation is typed as by pointers declared to point to it (a `T*` member or
/// module data word at its start), gathered by a first, conservative mark: an allocation with
/// one such type is scanned through it in the second mark however else it is reached (a
/// register, a stack slot, an interior pointer such as a list hook or a tree's header), since
/// those words say nothing of its type. Two different types make it untyped.
final class TypeClaims: @unchecked Sendable {
    private let claims = Mutex<[Int: Int32]>([:])
    private static let conflicting: Int32 = -1

    func claim(_ index: Int, as layout: Int32) {
        claims.withLock { claims in
            if let known = claims[index] {
                if known != layout { claims[index] = Self.conflicting }
            } else {
                claims[index] = layout
            }
        }
    }

    var isEmpty: Bool { claims.withLock { $0.isEmpty } }

    /// A frozen copy for the second mark, read without a lock.
    func settled() -> [Int: Int32] { claims.withLock { $0.filter { $0.value != Self.conflicting } } }
}
