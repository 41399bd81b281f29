import Allocators
import Analysis
import ELFCore
import Regions
import Testing
import TestFixtures

/// Mark phase on a synthetic process whose pointer graph is known exactly.
@Suite struct ReachabilityTests {
    static let heap: UInt64 = 0x5555_0000_0000
    static let stack: UInt64 = 0x7ffe_0000_0000
    static let anonymous: UInt64 = 0x7f00_0000_0000

    /// Eight 64-byte allocations at heap + 64*i (user pointers), with this pointer graph:
    /// stack → A0 → A1 (interior pointer) → A2; register → A3; anonymous root → A4;
    /// A5 → A6 (both unreachable: A6 leaked, A5 unreferenced); A7 free, pointed to by the stack.
    static func scenario() throws -> (CoreFile, AllocationTable) {
        var heapWords = [UInt64](repeating: 0, count: 8 * 8)
        func put(_ allocation: Int, _ word: Int, _ value: UInt64) { heapWords[allocation * 8 + word] = value }
        func address(_ allocation: Int) -> UInt64 { heap + UInt64(allocation) * 64 }
        put(0, 3, address(1) + 24)
        put(1, 0, address(2))
        put(5, 2, address(6))
        put(6, 0, address(6) + 8) // self pointer does not make it referenced
        var stackWords = [UInt64](repeating: 0, count: 16)
        stackWords[2] = 0xdead // below the stack pointer: dead, ignored
        stackWords[3] = address(5)
        stackWords[10] = address(0)
        stackWords[11] = address(7)
        var synthetic = SyntheticCore()
        synthetic.segments = [
            .init(address: heap, contents: words64(heapWords)),
            .init(address: anonymous, contents: words64([0, address(4)])),
            .init(address: stack, contents: words64(stackWords)),
        ]
        synthetic.threads = [.init(tid: 7, stackPointer: stack + 64, programCounter: address(3) + 8)]
        let core = try CoreFile(path: try synthetic.write())
        let allocations = (0..<8).map {
            Allocation(address: address($0), usableSize: 64, blockSize: 80, isUsed: $0 != 7, arena: 0)
        }
        let table = AllocationTable(allocator: "test", method: "synthetic", arenas: ["main"], allocations: allocations,
                                    warnings: [], managedRanges: [heap..<(heap + 512)])
        return (core, table)
    }

    @Test func marksExactlyTheReachableAllocations() throws {
        let (core, table) = try Self.scenario()
        let roots = RootSet(core: core, regions: RegionMap(core: core), table: table)
        let reachability = Reachability(table: table, roots: roots, memory: core.addressSpace)
        let states = (0..<8).map { reachability.liveness(ofAllocationAt: $0) }
        #expect(states == [.anchored, .anchored, .anchored, .anchored, .anchored, .unreferenced, .leaked, nil])
        #expect(reachability.anchoredCount == 5)
    }

    @Test func rootKindsCanBeTurnedOff() throws {
        let (core, table) = try Self.scenario()
        let roots = RootSet(core: core, regions: RegionMap(core: core), table: table, kinds: [.stack])
        let reachability = Reachability(table: table, roots: roots, memory: core.addressSpace)
        #expect(reachability.liveness(ofAllocationAt: 3) == .unreferenced)
        #expect(reachability.liveness(ofAllocationAt: 4) == .unreferenced)
        #expect(reachability.liveness(ofAllocationAt: 2) == .anchored)
    }

    @Test func explainsTheChainFromTheRoot() throws {
        let (core, table) = try Self.scenario()
        let roots = RootSet(core: core, regions: RegionMap(core: core), table: table)
        let reachability = Reachability(table: table, roots: roots, memory: core.addressSpace)
        let chain = try #require(ReferenceChain(address: Self.heap + 2 * 64 + 10, reachability: reachability, roots: roots))
        #expect(chain.rootKind == .stack)
        #expect(chain.rootName == "stack of thread 7")
        #expect(chain.links.map(\.allocation) == [hex(Self.heap), hex(Self.heap + 64), hex(Self.heap + 128)])
        #expect(chain.links.map(\.pointerAt) == [hex(Self.stack + 80), hex(Self.heap + 24), hex(Self.heap + 64)])
        #expect(chain.links.map(\.offsetInHolder) == [nil, 24, 0])
        let register = try #require(ReferenceChain(address: Self.heap + 3 * 64, reachability: reachability, roots: roots))
        #expect(register.rootKind == .register)
        #expect(register.links.first?.pointerAt == "rip")
        let leaked = try #require(ReferenceChain(address: Self.heap + 6 * 64, reachability: reachability, roots: roots))
        #expect(leaked.liveness == .leaked)
        #expect(leaked.links.isEmpty)
        #expect(ReferenceChain(address: Self.heap + 7 * 64, reachability: reachability, roots: roots) == nil)
    }
}
