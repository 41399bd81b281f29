import Allocators
import ELFCore

/// Every way an allocation is held (`explain --all`): one path per reference to it from a root
/// or from an anchored allocation, each ending with that reference and starting with the
/// shortest chain from a root to its holder. A leaked allocation has none.
public struct AnchorPaths: Sendable, Codable {
    /// The core file's path, as every command's JSON names it.
    public var core = ""
    public let target: String
    public let liveness: Liveness
    /// References to the target from roots and anchored allocations; `paths` holds at most the
    /// limit asked for.
    public let total: Int
    public let paths: [ReferenceChain]
    /// What makes the answer less certain (roots missing from the core).
    public var warnings: [String] = []
}

extension LeakAnalysis {
    /// The anchor paths of the used allocation containing `address`, at most `limit` of them;
    /// nil when no used allocation contains it. Needs the chains recorded (`recordChains`).
    public func anchorPaths(of address: UInt64, limit: Int) -> AnchorPaths? {
        guard let table, let reachability, let index = table.index(containing: address), table.allocations[index].isUsed,
              let liveness = reachability.liveness(ofAllocationAt: index),
              let query = references(of: address, direction: .incoming, limit: Int.max) else { return nil }
        let target = table.allocations[index]
        var paths: [ReferenceChain] = []
        var total = 0
        for reference in query.references {
            if let kind = reference.rootKind {
                total += 1
                guard paths.count < limit else { continue }
                var link = ReferenceChain.Link(allocation: hex(target.address), size: target.usableSize,
                                               pointerAt: reference.location, offsetInHolder: nil)
                link.pointerAtSymbol = reference.symbol
                paths.append(ReferenceChain(target: hex(target.address), liveness: liveness, rootKind: kind,
                                            rootName: reference.rootName, links: [link]))
                continue
            }
            guard reference.liveness == .anchored, let holderText = reference.holder, let offset = reference.offset,
                  let holder = UInt64(holderText.dropFirst(2), radix: 16) else { continue }
            total += 1
            guard paths.count < limit, let chain = explain(holder) else { continue }
            var link = ReferenceChain.Link(allocation: hex(target.address), size: target.usableSize,
                                           pointerAt: reference.location, offsetInHolder: offset)
            link.member = member(ofAllocationAt: holder, offset: offset)
            paths.append(chain.extended(to: target, liveness: liveness, link: link))
        }
        var result = AnchorPaths(target: hex(target.address), liveness: liveness, total: total, paths: paths)
        result.core = core.path
        if liveness != .anchored { result.warnings = completenessWarnings }
        return result
    }
}
