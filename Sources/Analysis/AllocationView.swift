import Allocators
import ELFCore

/// One allocation as `show` prints it: what the allocator and the mark phase say of it, and its
/// words, each pointer annotated with what it points into.
public struct AllocationView: Sendable, Codable {
    public struct Word: Sendable, Codable {
        public let offset: UInt64
        /// The 8 bytes as a little-endian number, "0x…".
        public let value: String
        /// What the value points into: "0x… +16 (Session, anchored)", "service+0x3d88 (module)".
        public let pointsTo: String?
    }

    /// The core file's path, as every command's JSON names it.
    public var core = ""
    /// The address asked about, and where it lies in the allocation.
    public let address: String
    public let offset: UInt64
    public let start: String
    public let usableSize: UInt64
    public let blockSize: UInt64
    public let used: Bool
    public let allocator: String
    public let arena: String?
    /// anchored, leaked or unreferenced; "free" for a free block.
    public let liveness: String
    /// The C++ class when the first word is a vtable address point ("THD"), or the word behind
    /// an allocator header ("THD at +24").
    public let type: String?
    /// Without a type: the libstdc++ container part it is ("std::map node", "long string
    /// body"), as `leaks` groups it.
    public var container: String?
    /// A free chunk's free list, when the allocator keeps it in one: "thread 123's tcache bin
    /// 3", "fastbin 2 of arena 0x…".
    public var freeList: String?
    /// The first `words.count` words of the allocation (at most what was asked).
    public let words: [Word]
    public var warnings: [String] = []
}

extension LeakAnalysis {
    /// The allocation containing `address` with up to `maxBytes` of its words, or nil when no
    /// allocation contains it.
    public func view(of address: UInt64, maxBytes: Int) -> AllocationView? {
        guard let table, let index = table.index(containing: address) else { return nil }
        let allocation = table.allocations[index]
        let memory = core.addressSpace
        var hint = -1
        var words: [AllocationView.Word] = []
        let length = Int(min(allocation.usableSize, UInt64(max(0, maxBytes)))) / 8 * 8
        if let bytes = memory.prefixView(at: allocation.address, upTo: length, hint: &hint) {
            for offset in stride(from: 0, to: bytes.count - 7, by: 8) {
                let value = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                words.append(.init(offset: UInt64(offset), value: hex(value), pointsTo: describeTarget(of: value)))
            }
        }
        let liveness = reachability?.liveness(ofAllocationAt: index)?.rawValue ?? (allocation.isUsed ? "unknown" : "free")
        var view = AllocationView(
            address: hex(address), offset: address - allocation.address, start: hex(allocation.address),
            usableSize: allocation.usableSize, blockSize: allocation.blockSize, used: allocation.isUsed,
            allocator: table.allocator, arena: table.arenas.indices.contains(Int(allocation.arena)) ? table.arenas[Int(allocation.arena)] : nil,
            liveness: liveness, type: objectTypeName(of: allocation), words: words)
        view.core = core.path
        if !allocation.isUsed { view.freeList = table.places.freeList(ofChunkAt: allocation.address) }
        if view.type == nil {
            view.container = ContainerCensus.role(ofAllocationAt: index, table: table, memory: memory,
                                                  reachability: reachability)?.displayName
        }
        if allocation.isUsed, liveness != Liveness.anchored.rawValue { view.warnings = completenessWarnings }
        return view
    }

    func describeTarget(of value: UInt64) -> String? {
        guard value >= 4096 else { return nil }
        if let table, let index = table.index(containing: value) {
            let target = table.allocations[index]
            var parts: [String] = []
            if let type = objectTypeName(of: target) { parts.append(type) }
            parts.append(reachability?.liveness(ofAllocationAt: index)?.rawValue ?? (target.isUsed ? "used" : "free"))
            return "\(hex(target.address)) +\(value - target.address) (\(parts.joined(separator: ", ")))"
        }
        if let symbol = symbolize(value) { return symbol }
        if let region = regions.region(containing: value) {
            return "\(region.displayName)+\(hex(value - region.start)) (\(region.label.rawValue))"
        }
        return nil
    }
}
