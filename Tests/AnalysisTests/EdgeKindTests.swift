import Analysis
import Symbols
import Testing

/// `explain` says how each step's pointer was known: a declared pointer member of a typed object
/// is precise, a container found by its shape is recognised, any other word is conservative.
@Suite struct EdgeKindTests {
    @Test func eachStepSaysHowItsPointerWasKnown() throws {
        let vptr: UInt64 = 0x4000_1000
        // Block 0: an object {vptr, declared pointer, uintptr_t, -}; blocks 1 and 2 hang off its
        // two pointer slots; block 3 is a vector's buffer, the vector on the stack.
        var heap = ContainerAwareMarkingTests.Heap(sizes: [32, 24, 24, 24])
        let blocks = heap.addresses
        heap.contents[0] = [vptr, blocks[1], blocks[2], 0]
        heap.stackWords = [blocks[0], 0, blocks[3], blocks[3] + 8, blocks[3] + 24]
        heap.layouts = TypedLayouts([vptr: PointerLayout(size: 32, pointerSlots: [1, 2], isDeclaredPointer: [true, false])])
        let (reachability, roots) = try heap.analyse(recordChains: true)
        func edges(_ block: Int) throws -> [EdgeKind] {
            try #require(ReferenceChain(address: blocks[block], reachability: reachability, roots: roots)).links.map(\.edge)
        }
        #expect(try edges(0) == [.conservative])
        #expect(try edges(1) == [.conservative, .precise])
        #expect(try edges(2) == [.conservative, .conservative])
        #expect(try edges(3) == [.recognised])
    }
}
