import Synchronization

/// What the mark phase scans of each allocation in the `.limited` state: the hull of the live
/// ranges its containers claim (a vector's [start, finish), a deque block's cursors), or the one
/// struct typed pointers say it holds (its layout's pointer members, then its slack word by
/// word). A block claimed both ways, or as two structs, is scanned whole. Few allocations have a
/// view, so a locked map costs less than a number per allocation.
final class LimitedViews: @unchecked Sendable {
    struct Range: Equatable {
        var lo: UInt64
        var hi: UInt64
        var isEmpty: Bool { lo >= hi }
    }

    enum View: Equatable {
        /// `element`: the layout of the struct a vector's pointers are declared to point to, when
        /// every claim agrees on one; else -1.
        case range(Range, element: Int32)
        /// A `TypedLayouts` id.
        case object(Int32)

        static let nothing = View.range(Range(lo: 0, hi: 0), element: -1)
    }

    enum Claim {
        case unchanged
        /// The view grew: the block needs a rescan.
        case grew
        /// The claims disagree: the block must be scanned whole.
        case conflict
    }

    private let views = Mutex<[Int: View]>([:])

    /// Widens the range of `index` to cover `lo..<hi`. An empty range marks the buffer reached
    /// with nothing live in it.
    func widen(_ index: Int, lo: UInt64, hi: UInt64, element: Int32 = -1) -> Claim {
        views.withLock { views in
            let claimed = Range(lo: lo, hi: max(lo, hi))
            guard let known = views[index] else {
                views[index] = .range(claimed, element: element)
                return .grew
            }
            guard case let .range(range, knownElement) = known else { return .conflict }
            let hull = claimed.isEmpty ? range
                : range.isEmpty ? claimed : Range(lo: min(range.lo, claimed.lo), hi: max(range.hi, claimed.hi))
            let agreed = knownElement == element ? element : -1
            if hull == range && agreed == knownElement { return .unchanged }
            views[index] = .range(hull, element: agreed)
            return .grew
        }
    }

    /// Claims that `index` holds one object of layout `layout`.
    func type(_ index: Int, as layout: Int32) -> Claim {
        views.withLock { views in
            guard let known = views[index] else {
                views[index] = .object(layout)
                return .grew
            }
            return known == .object(layout) ? .unchanged : .conflict
        }
    }

    func view(_ index: Int) -> View {
        views.withLock { $0[index] ?? .nothing }
    }
}
