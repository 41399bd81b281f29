import ELFCore

/// The shape of the leaked part of the heap: which leaked allocations are where the program lost
/// its objects (leak roots) and which are kept alive only by a cycle of leaked objects. A leak
/// root is a leaked allocation nothing points to, or one allocation (the lowest) of a cycle of
/// leaked allocations nothing outside it points to. Only referenced leaked allocations can be in
/// a cycle, so Tarjan's strongly connected components run over those alone (iterative, each
/// scanned once); a heap of unreferenced leaks costs nothing here.
struct LeakComponents {
    /// One bit per allocation.
    private(set) var cycleRoots: BitSet
    private(set) var inCycles: BitSet
    /// Component of each candidate in a cycle, for `pointedToFromOutside`.
    private var component: [UInt32]
    private var componentHasIncoming: [Bool]
    private var componentFirst: [UInt32]
    private var componentSize: [Int]
    private let candidates: [UInt32]

    /// `candidates` lists the referenced leaked allocations in ascending order;
    /// `successors(index, body)` calls `body` with each candidate allocation `index` points to.
    init(count: Int, candidates leaked: [UInt32], successors: (Int, (Int) -> Void) -> Void) {
        cycleRoots = BitSet(count: count)
        inCycles = BitSet(count: count)
        candidates = leaked
        let unvisited = UInt32.max
        let total = leaked.count
        var order = [UInt32](repeating: unvisited, count: total)
        var low = [UInt32](repeating: 0, count: total)
        var component = [UInt32](repeating: unvisited, count: total)
        var componentHasIncoming: [Bool] = []
        var componentFirst: [UInt32] = []
        var componentSize: [Int] = []
        var onStack = BitSet(count: total)
        var sccStack: [UInt32] = []
        var counter: UInt32 = 0

        func ordinal(_ index: Int) -> Int { leaked.firstIndex(keyAtLeast: UInt64(index), key: { UInt64($0) }) }

        struct Frame {
            let node: Int
            var next: [UInt32]
            var position = 0
        }
        var frames: [Frame] = []
        for start in 0..<total where order[start] == unvisited {
            func enter(_ node: Int) -> Frame {
                order[node] = counter
                low[node] = counter
                counter += 1
                onStack.insert(node)
                sccStack.append(UInt32(node))
                var next: [UInt32] = []
                successors(Int(leaked[node])) { target in next.append(UInt32(ordinal(target))) }
                return Frame(node: node, next: next)
            }
            frames.append(enter(start))
            while !frames.isEmpty {
                let top = frames.count - 1
                let node = frames[top].node
                if frames[top].position < frames[top].next.count {
                    let successor = Int(frames[top].next[frames[top].position])
                    frames[top].position += 1
                    if order[successor] == unvisited {
                        frames.append(enter(successor))
                    } else if onStack.contains(successor) {
                        low[node] = min(low[node], order[successor])
                    } else {
                        // A finished component another component points into: not where it was lost.
                        componentHasIncoming[Int(component[successor])] = true
                    }
                    continue
                }
                if low[node] == order[node] {
                    let id = UInt32(componentHasIncoming.count)
                    componentHasIncoming.append(false)
                    var size = 0
                    var first = UInt32.max
                    while let member = sccStack.popLast() {
                        onStack.remove(Int(member))
                        component[Int(member)] = id
                        size += 1
                        first = min(first, member)
                        if Int(member) == node { break }
                    }
                    componentFirst.append(first)
                    componentSize.append(size)
                }
                frames.removeLast()
                if let parent = frames.last?.node {
                    if onStack.contains(node) {
                        low[parent] = min(low[parent], low[node])
                    } else {
                        componentHasIncoming[Int(component[node])] = true
                    }
                }
            }
        }
        for ordinal in 0..<total where componentSize[Int(component[ordinal])] > 1 {
            inCycles.insert(Int(leaked[ordinal]))
        }
        self.component = component
        self.componentHasIncoming = componentHasIncoming
        self.componentFirst = componentFirst
        self.componentSize = componentSize
        finish()
    }

    var hasCycles: Bool { componentSize.contains { $0 > 1 } }

    /// An allocation outside the candidates (an unreferenced leaked one) points to `index`, a
    /// member of a cycle: that cycle was not where the objects were lost.
    mutating func pointedToFromOutside(_ index: Int) {
        let lower = candidates.firstIndex(keyAtLeast: UInt64(index), key: { UInt64($0) })
        guard lower < candidates.count, Int(candidates[lower]) == index else { return }
        componentHasIncoming[Int(component[lower])] = true
    }

    /// One root per cycle nothing outside points to; again after `pointedToFromOutside`.
    mutating func finish() {
        cycleRoots = BitSet(count: cycleRoots.count)
        for (id, size) in componentSize.enumerated() where size > 1 && !componentHasIncoming[id] {
            cycleRoots.insert(Int(candidates[Int(componentFirst[id])]))
        }
    }
}
