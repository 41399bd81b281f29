import Allocators
import Analysis
import ELFCore
import Foundation
import Regions
import Symbols

/// Times the mark phase on three shapes of the same N allocations: a singly linked list hung
/// from one root word, N objects hung off one root array, and a linked list of typed objects
/// {vptr, next, …} scanned through their pointer layout (as DWARF gives it). Marking is a work
/// list, so all cost about the same per allocation (a mark in waves paid a sweep of the whole
/// table per list node). HEAPSCAN_BENCH_MARK_NODES sets N (10 M by default).
enum MarkBench {
    static let heap: UInt64 = 0x5600_0000_0000
    static let rootArea: UInt64 = 0x7f00_0000_0000
    static let stride: UInt64 = 32
    /// The typed nodes' vtable address point: only compared, never read.
    static let vptr: UInt64 = 0x5500_0000_1000

    enum Shape: CaseIterable {
        case list, array, typedList

        var name: String {
            switch self {
            case .list: return "linked list from one root"
            case .array: return "array of pointers"
            case .typedList: return "typed linked list (layout scan)"
            }
        }
    }

    static func run() {
        let nodes = ProcessInfo.processInfo.environment["HEAPSCAN_BENCH_MARK_NODES"].flatMap(Int.init) ?? 10_000_000
        let path = NSTemporaryDirectory() + "heapscan-mark-bench-\(getpid()).core"
        defer { unlink(path) }
        print("mark: \(nodes) allocations of 24 bytes")
        for shape in Shape.allCases {
            do {
                try write(nodes: nodes, shape: shape, to: path)
                let core = try CoreFile(path: path)
                let allocations = (0..<nodes).map {
                    Allocation(address: heap + UInt64($0) * stride, usableSize: 24, blockSize: stride, isUsed: true, arena: 0)
                }
                let table = AllocationTable(allocator: "bench", method: "synthetic", arenas: ["bench"], allocations: allocations,
                                            warnings: [], managedRanges: [heap..<(heap + UInt64(nodes) * stride)])
                let roots = RootSet(core: core, regions: RegionMap(core: core), table: table)
                let layouts = shape == .typedList
                    ? TypedLayouts([vptr: PointerLayout(size: 24, pointerSlots: [1], isDeclaredPointer: [true])]) : .none
                var reachability: Reachability?
                let time = ContinuousClock().measure {
                    reachability = Reachability(table: table, roots: roots, memory: core.addressSpace, recordChains: false,
                                                layouts: layouts)
                }
                let seconds = Double(time.components.seconds) + Double(time.components.attoseconds) / 1e18
                print(String(format: "  %@: %.3f s, %.1f ns per allocation (%.1f M allocations/s, %.2f GB/s of heap), %d anchored, %d pushes",
                             shape.name, seconds, seconds / Double(nodes) * 1e9, Double(nodes) / seconds / 1e6,
                             Double(nodes) * Double(stride) / seconds / 1e9,
                             reachability?.anchoredCount ?? 0, reachability?.markPushes ?? 0))
            } catch {
                print("mark: \(error)")
            }
        }
    }

    /// A core of two segments: the heap of N nodes (each pointing to the next in a list) and the
    /// root area (one pointer to the first node, or one pointer to each node).
    private static func write(nodes: Int, shape: Shape, to path: String) throws {
        let linked = shape != .array
        let heapBytes = UInt64(nodes) * stride
        let rootWords = linked ? 1 : nodes
        let rootBytes = (UInt64(rootWords) * 8 + 4095) & ~4095
        var header = SyntheticHeapCore.elfHeader(programHeaders: 2)
        header += SyntheticHeapCore.programHeader(type: 1, flags: 6, offset: 4096, address: heap, size: heapBytes)
        header += SyntheticHeapCore.programHeader(type: 1, flags: 6, offset: 4096 + heapBytes, address: rootArea, size: rootBytes)
        header += [UInt8](repeating: 0, count: 4096 - header.count)
        guard FileManager.default.createFile(atPath: path, contents: Data(header)),
              let file = FileHandle(forWritingAtPath: path) else { throw BenchError("cannot create \(path)") }
        defer { try? file.close() }
        try file.seekToEnd()
        let chunkNodes = 1 << 16
        var words = [UInt64](repeating: 0, count: chunkNodes * Int(stride / 8))
        for first in Swift.stride(from: 0, to: nodes, by: chunkNodes) {
            let count = min(chunkNodes, nodes - first)
            for node in 0..<count {
                let next = first + node + 1
                let link = linked && next < nodes ? heap + UInt64(next) * stride : 0
                if shape == .typedList {
                    words[node * Int(stride / 8)] = vptr
                    words[node * Int(stride / 8) + 1] = link
                } else {
                    words[node * Int(stride / 8)] = link
                }
            }
            try file.write(contentsOf: words.prefix(count * Int(stride / 8)).withUnsafeBytes { Data($0) })
        }
        var roots = [UInt64](repeating: 0, count: Int(rootBytes / 8))
        for word in 0..<rootWords { roots[word] = heap + UInt64(word) * stride }
        try file.write(contentsOf: roots.withUnsafeBytes { Data($0) })
    }
}
