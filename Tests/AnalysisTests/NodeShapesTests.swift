import Allocators
import Analysis
import ELFCore
import Testing
import TestFixtures

/// Node containers recognised by their own links on a synthetic heap: map nodes whose colour
/// word carries the same stale upper half (which made a "magic" of it before), a list ring
/// closed by its sentinel, and an unordered container whose node chain is a cycle, which must
/// end the walk and name nothing.
@Suite struct NodeShapesTests {
    static let heap: UInt64 = 0x5555_0000_0000

    static func population() throws -> (CoreFile, AllocationTable) {
        // Words 0..<16 are no allocation: the map's header (0..<4), the list's sentinel (4..<7)
        // and the hash table object (8..<15), as a program's statics would hold them.
        var words = [UInt64](repeating: 0, count: 16)
        var allocations: [Allocation] = []
        func allocate(_ block: UInt64) -> UInt64 {
            let address = heap + UInt64(words.count + 2) * 8
            words += [0, block | 1] + [UInt64](repeating: 0, count: Int(block / 8) - 2)
            allocations.append(Allocation(address: address, usableSize: block - 8, blockSize: block, isUsed: true, arena: 0))
            return address
        }
        func set(_ address: UInt64, _ values: [UInt64]) {
            let first = Int((address - heap) / 8)
            for (index, value) in values.enumerated() { words[first + index] = value }
        }
        let header = heap
        let nodes = (0..<20).map { _ in allocate(64) }
        set(header, [0, nodes[0], nodes[0], nodes[19]])
        for (index, node) in nodes.enumerated() {
            // Black, beside 4 stale bytes every node shares; a degenerate but valid tree.
            set(node, [1 | 0x1234_5678 << 32, index == 0 ? header : nodes[index - 1], 0,
                       index == 19 ? 0 : nodes[index + 1], UInt64(index)])
        }
        let sentinel = heap + 32
        let listNodes = (0..<10).map { _ in allocate(48) }
        set(sentinel, [listNodes[0], listNodes[9], 10])
        for (index, node) in listNodes.enumerated() {
            set(node, [index == 9 ? sentinel : listNodes[index + 1], index == 0 ? sentinel : listNodes[index - 1],
                       0xfeed_0000_0000_0000 | UInt64(index)])
        }
        let table = heap + 64
        let buckets = allocate(112)
        let (first, second) = (allocate(32), allocate(32))
        set(table, [buckets, 13, first, 5])
        set(buckets + 24, [table + 16])
        set(first, [second, 7])
        set(second, [first, 8])
        var synthetic = SyntheticCore()
        synthetic.segments = [.init(address: heap, contents: words64(words))]
        let core = try CoreFile(path: try synthetic.write())
        let allocationTable = AllocationTable(allocator: "test", method: "synthetic", arenas: ["main"], allocations: allocations,
                                              warnings: [], managedRanges: [(heap + 128)..<(heap + UInt64(words.count * 8))])
        return (core, allocationTable)
    }

    @Test func nodesAreGroupedByTheirContainerAndACycleNamesNothing() throws {
        let (core, table) = try Self.population()
        var options = Classifier.Options()
        options.minimumCount = 1
        let report = Classifier(table: table, memory: core.addressSpace, reachability: nil, vtableRanges: [],
                                typeOf: { _ in nil })
            .classify(corePath: "app.core", options: options)
        let rows = Set(report.suspects.map { "\($0.kind.rawValue) \($0.name) \($0.count)" })
        #expect(rows == [
            "container std::map node (64-byte blocks) 20",
            "container std::list node (48-byte blocks) 10",
            "size 112-byte blocks 1",
            "size 32-byte blocks 2",
        ])
    }
}
