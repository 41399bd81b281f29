import Allocators
import ELFCore

/// `words --by-allocation`: values that recur at one offset in many used allocations of one
/// size — "2000 allocations of 48 bytes have 0x1234abcd at offset 0" — found without knowing
/// the value in advance. Zero, small integers, pointers into mapped memory and text are not
/// magics. Counts are exact; candidates come from a spread-out sample of each size (so a value
/// carried by under ~1% of a size's allocations can be missed).
public struct MagicCensus: Sendable, Codable {
    public struct Row: Sendable, Codable, Equatable {
        public var value: String
        public var width: Int
        public var offset: Int
        public var blockSize: UInt64
        /// Allocations of this block size carrying the value at the offset.
        public var count: Int
        /// All used allocations of this block size.
        public var allocationsOfSize: Int
        /// The command that lists them.
        public var command: String
    }

    /// The core file's path, as every command's JSON names it.
    public var core: String
    public var allocator: String
    public var usedAllocations: Int
    public var rows: [Row]

    public init(table: AllocationTable, memory: AddressSpace, corePath: String, minimumCount: Int = 8, top: Int = 50) {
        let used = Array(table.allocations.indices.lazy.filter { table.allocations[$0].isUsed }.map { UInt32($0) })
        var options = Classifier.Options()
        options.minimumCount = minimumCount
        options.minimumMagicCount = minimumCount
        let classifier = Classifier(table: table, memory: memory, reachability: nil, vtableRanges: [], typeOf: { _ in nil })
        var sizes: [UInt64: Int] = [:]
        for index in used { sizes[table.allocations[Int(index)].blockSize, default: 0] += 1 }
        core = corePath
        allocator = table.allocator
        usedAllocations = used.count
        rows = classifier.countMagics(in: used, options: options).prefix(top).map { key, count in
            Row(value: hex(key.value), width: key.width, offset: key.offset, blockSize: key.blockSize, count: count,
                allocationsOfSize: sizes[key.blockSize] ?? 0,
                command: "heapscan find \(corePath) \(hex(key.value)) --width \(key.width)")
        }
    }
}
