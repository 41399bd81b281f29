import Analysis
import Testing

/// Leak roots and leaked cycles on a synthetic heap whose leaked graph is known.
@Suite struct LeakComponentsTests {
    /// Blocks: 0 → 1 → 2 (a leaked chain), 3 ⇄ 4 (a leaked cycle), 7 → 5 ⇄ 6 (a cycle lost
    /// through 7), 8 alone, and 9 anchored from the stack pointing at nothing leaked.
    @Test func rootsAreWhereTheProgramLostItsObjects() throws {
        var heap = ContainerAwareMarkingTests.Heap(sizes: [UInt64](repeating: 32, count: 10))
        let blocks = heap.addresses
        heap.contents = [0: [blocks[1]], 1: [blocks[2]], 3: [blocks[4]], 4: [blocks[3]],
                         5: [blocks[6]], 6: [blocks[5]], 7: [blocks[5]]]
        heap.stackWords = [blocks[9]]
        let reachability = try heap.analyse()
        let roots = (0..<10).filter { reachability.isLeakRoot($0) }
        let cycles = (0..<10).filter { reachability.isInLeakedCycle($0) }
        #expect(roots == [0, 3, 7, 8])
        #expect(cycles == [3, 4, 5, 6])
        #expect(reachability.liveness(ofAllocationAt: 0) == .unreferenced)
        #expect(reachability.liveness(ofAllocationAt: 5) == .leaked)
        #expect(reachability.liveness(ofAllocationAt: 9) == .anchored)
    }

    /// A chain of 50 000 leaked nodes: one root, no cycle, and no recursion deep enough to matter.
    @Test func aDeepLeakedChainHasOneRoot() throws {
        let nodes = 50_000
        var heap = ContainerAwareMarkingTests.Heap(sizes: [UInt64](repeating: 16, count: nodes))
        let blocks = heap.addresses
        for node in 0..<(nodes - 1) { heap.contents[node] = [blocks[node + 1]] }
        let reachability = try heap.analyse()
        #expect((0..<nodes).filter { reachability.isLeakRoot($0) } == [0])
        #expect(!(0..<nodes).contains { reachability.isInLeakedCycle($0) })
    }
}
