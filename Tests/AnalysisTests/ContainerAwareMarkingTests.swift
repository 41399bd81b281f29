import Allocators
import Analysis
import ELFCore
import Regions
import Testing
import TestFixtures

/// The mark phase on synthetic heaps whose stale words are known: bytes a string or vector
/// does not use never anchor anything, and bytes that might be in use always do.
@Suite struct ContainerAwareMarkingTests {
    static let heap: UInt64 = 0x5555_0000_0000
    static let stack: UInt64 = 0x7ffe_0000_0000

    /// Blocks of the given usable sizes laid end to end from `heap` (16 bytes apart so no
    /// block's end is the next one's start unless asked), the words each holds, and stack words.
    struct Heap {
        var sizes: [UInt64]
        var gap: UInt64 = 16
        var contents: [Int: [UInt64]] = [:]
        var stackWords: [UInt64] = []
        var layouts: TypedLayouts = .none

        var addresses: [UInt64] {
            var next = ContainerAwareMarkingTests.heap
            return sizes.map { size in
                defer { next += size + gap }
                return next
            }
        }

        func analyse() throws -> Reachability { try analyse(recordChains: false).reachability }

        func analyse(recordChains: Bool) throws -> (reachability: Reachability, roots: RootSet) {
            let addresses = addresses
            let end = addresses.last! + sizes.last! + gap
            var bytes = [UInt8](repeating: 0, count: Int(end - heap))
            for (block, words) in contents {
                let start = Int(addresses[block] - heap)
                for (slot, word) in words.enumerated() {
                    for byte in 0..<8 { bytes[start + slot * 8 + byte] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(byte))) }
                }
            }
            var synthetic = SyntheticCore()
            synthetic.segments = [
                .init(address: heap, contents: bytes),
                .init(address: stack, contents: words64([0] + stackWords)),
            ]
            synthetic.threads = [.init(tid: 9, stackPointer: stack + 8, programCounter: 0)]
            let core = try CoreFile(path: try synthetic.write())
            let allocations = zip(addresses, sizes).map {
                Allocation(address: $0, usableSize: $1, blockSize: $1 + 8, isUsed: true, arena: 0)
            }
            let table = AllocationTable(allocator: "test", method: "synthetic", arenas: ["main"], allocations: allocations,
                                        warnings: [], managedRanges: [heap..<end])
            let roots = RootSet(core: core, regions: RegionMap(core: core), table: table, kinds: [.stack])
            return (Reachability(table: table, roots: roots, memory: core.addressSpace, recordChains: recordChains,
                                 layouts: layouts), roots)
        }
    }

    /// Little-endian text in one word.
    static func text(_ string: String) -> UInt64 {
        string.utf8.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    @Test func aLongStringsBufferIsNeverScanned() throws {
        // Block 0: a 40-byte buffer for capacity 30 holding 20 characters, then a stale pointer.
        var heap = Heap(sizes: [40, 32])
        let (buffer, stale) = (heap.addresses[0], heap.addresses[1])
        heap.contents[0] = [Self.text("abcdefgh"), Self.text("ijklmnop"), Self.text("qrst"), stale]
        heap.stackWords = [buffer, 20, 30]
        let reachability = try heap.analyse()
        #expect(reachability.liveness(ofAllocationAt: 0) == .anchored)
        #expect(reachability.liveness(ofAllocationAt: 1) == .unreferenced)
    }

    @Test func aBufferAlsoReachedOtherwiseIsScannedWhole() throws {
        var heap = Heap(sizes: [40, 32])
        let (buffer, stale) = (heap.addresses[0], heap.addresses[1])
        heap.contents[0] = [Self.text("abcdefgh"), Self.text("ijklmnop"), Self.text("qrst"), stale]
        heap.stackWords = [buffer, 20, 30, 0, buffer]
        let reachability = try heap.analyse()
        #expect(reachability.liveness(ofAllocationAt: 1) == .anchored)
    }

    /// A `std::map` node {colour, parent, left, right = 0, key = 39, value} has a string's shape
    /// at `left` for a 40-byte node whose first byte is 0: an empty string is not believed.
    @Test func aMapNodeIsNotAnEmptyString() throws {
        var heap = Heap(sizes: [40, 32])
        let (node, value) = (heap.addresses[0], heap.addresses[1])
        heap.contents[0] = [0x7_0000_0000, 0, 0, 0, value]
        heap.stackWords = [node, 0, 39]
        let reachability = try heap.analyse()
        #expect(reachability.liveness(ofAllocationAt: 1) == .anchored)
    }

    @Test func aStringShapeWithoutItsTerminatorIsNotAString() throws {
        var heap = Heap(sizes: [40, 32])
        let (buffer, stale) = (heap.addresses[0], heap.addresses[1])
        heap.contents[0] = [Self.text("abcdefgh"), Self.text("ijklmnop"), Self.text("qrstuvwx"), stale]
        heap.stackWords = [buffer, 20, 30]
        let reachability = try heap.analyse()
        #expect(reachability.liveness(ofAllocationAt: 1) == .anchored)
    }

    @Test func aVectorsSpareCapacityIsNotScanned() throws {
        // Block 0: a vector buffer of 6 pointers holding 2; the 4th slot keeps an old element.
        var heap = Heap(sizes: [48, 24, 24, 24])
        let blocks = heap.addresses
        heap.contents[0] = [blocks[1], blocks[2], 0, blocks[3]]
        heap.stackWords = [blocks[0], blocks[0] + 16, blocks[0] + 48]
        let reachability = try heap.analyse()
        #expect((0...3).map { reachability.liveness(ofAllocationAt: $0) } == [.anchored, .anchored, .anchored, .unreferenced])
    }

    @Test func theLongestVectorOverABufferDecides() throws {
        var heap = Heap(sizes: [48, 24, 24, 24])
        let blocks = heap.addresses
        heap.contents[0] = [blocks[1], blocks[2], 0, blocks[3]]
        heap.stackWords = [blocks[0], blocks[0] + 16, blocks[0] + 48, blocks[0], blocks[0] + 32, blocks[0] + 48]
        let reachability = try heap.analyse()
        #expect(reachability.liveness(ofAllocationAt: 3) == .anchored)
    }

    @Test func aFullVectorsEndDoesNotAnchorTheNextBlock() throws {
        var heap = Heap(sizes: [48, 24], gap: 0)
        let blocks = heap.addresses
        #expect(blocks[0] + 48 == blocks[1])
        heap.stackWords = [blocks[0], blocks[0] + 48, blocks[0] + 48]
        let reachability = try heap.analyse()
        #expect(reachability.liveness(ofAllocationAt: 1) == .unreferenced)
    }

    @Test func aShortStringsLocalBufferIsSkipped() throws {
        // Block 0 holds a short string {pointer to its local buffer, length 5, "hello", stale}.
        var heap = Heap(sizes: [40, 32])
        let (holder, stale) = (heap.addresses[0], heap.addresses[1])
        heap.contents[0] = [holder + 16, 5, Self.text("hello"), stale]
        heap.stackWords = [holder]
        let reachability = try heap.analyse()
        #expect(reachability.liveness(ofAllocationAt: 1) == .unreferenced)
        // No terminator where the length says: not a string, scanned as words.
        heap.contents[0] = [holder + 16, 5, Self.text("hello, w"), stale]
        #expect(try heap.analyse().liveness(ofAllocationAt: 1) == .anchored)
    }

    /// A deque of pointers on the stack: a map of 8 entries (blocks 0), blocks of 8 elements for
    /// its first, middle and last nodes (1, 2, 3), each element pointing at a 24-byte object
    /// (4 ... 27), and a stale map entry naming an old block (28) that points at object 29.
    /// Three elements were popped from the front, six slots of the last block are not used yet.
    struct PoppedDeque {
        var heap = Heap(sizes: [64, 64, 64, 64] + [UInt64](repeating: 24, count: 24) + [64, 24])
        var header: [UInt64]

        init() {
            let blocks = heap.addresses
            for node in 0..<3 { heap.contents[1 + node] = (0..<8).map { blocks[4 + 8 * node + $0] } }
            heap.contents[0] = [0, 0, blocks[1], blocks[2], blocks[3], 0, blocks[28], 0]
            heap.contents[28] = [blocks[29]]
            let (map, first, last) = (blocks[0], blocks[1], blocks[3])
            header = [map, 8, first + 3 * 8, first, first + 64, map + 16, last + 2 * 8, last, last + 64, map + 32]
            heap.stackWords = header
        }

        func leaked(_ reachability: Reachability) -> [Int] {
            (0..<heap.sizes.count).filter { reachability.liveness(ofAllocationAt: $0)?.isLeaked == true }
        }
    }

    @Test func aDequesPoppedAndUnusedSlotsAreNotScanned() throws {
        let deque = PoppedDeque()
        #expect(deque.leaked(try deque.heap.analyse()) == [4, 5, 6] + Array(22...29))
    }

    @Test func aDequeWithOneBlockScansFromItsStartToItsFinish() throws {
        var deque = PoppedDeque()
        let blocks = deque.heap.addresses
        let (map, first) = (blocks[0], blocks[1])
        deque.heap.contents[0] = [0, 0, first, 0, 0, 0, 0, 0]
        deque.heap.stackWords = [map, 8, first + 2 * 8, first, first + 64, map + 16, first + 5 * 8, first, first + 64, map + 16]
        #expect(deque.leaked(try deque.heap.analyse()) == [2, 3, 4, 5] + Array(9...29))
    }

    @Test func aDequeBlockAlsoReachedOtherwiseIsScannedWhole() throws {
        var deque = PoppedDeque()
        let blocks = deque.heap.addresses
        deque.heap.stackWords += [blocks[1], blocks[3] + 8]
        #expect(deque.leaked(try deque.heap.analyse()) == [28, 29])
    }

    /// The block holding the header is first scanned as a vector buffer that ends inside the
    /// header, then reached whole: the cut header must not anchor the deque's stale slots.
    @Test func aDequeHeaderCutByALiveRangeIsStillADeque() throws {
        var deque = PoppedDeque()
        deque.heap.sizes += [120, 24, 24]
        let blocks = deque.heap.addresses
        let (holder, a, b) = (blocks[30], blocks[31], blocks[32])
        deque.heap.contents[30] = [0, 0, 0, 0] + deque.header + [0]
        deque.heap.contents[31] = [b]
        deque.heap.contents[32] = [holder]
        deque.heap.stackWords = [a, holder, holder + 64, holder + 120]
        #expect(deque.leaked(try deque.heap.analyse()) == [4, 5, 6] + Array(22...29))
    }

    @Test func aDequeHeaderWhoseNodeDoesNotNameItsBlockIsScannedAsWords() throws {
        var deque = PoppedDeque()
        deque.heap.contents[0]![2] = 0
        #expect(deque.leaked(try deque.heap.analyse()).isEmpty)
    }

    /// Every allocation is pushed on the work list once, however deep the chain: a chain of
    /// 20 000 nodes costs the pushes of 20 000 objects hung off one array.
    @Test func markingVisitsEachAllocationOnceOnADeepChain() throws {
        let nodes = 20_000
        var chain = Heap(sizes: [UInt64](repeating: 16, count: nodes))
        let addresses = chain.addresses
        for node in 0..<(nodes - 1) { chain.contents[node] = [addresses[node + 1]] }
        chain.stackWords = [addresses[0]]
        let deep = try chain.analyse()
        #expect(deep.anchoredCount == nodes)
        #expect(deep.markPushes == nodes)

        var star = Heap(sizes: [UInt64](repeating: 16, count: nodes))
        star.stackWords = star.addresses
        let wide = try star.analyse()
        #expect(wide.anchoredCount == nodes)
        #expect(wide.markPushes == nodes)
    }
}
