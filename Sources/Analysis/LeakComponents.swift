/// The shape of the leaked part of the heap: which leaked allocations are where the program lost
/// its objects (leak roots) and which are kept alive only by a cycle of leaked objects. Tarjan's
/// strongly connected components over the leaked allocations, iterative, each allocation scanned
/// once: a leak root is a leaked allocation no other leaked allocation points to, or one
/// allocation (the lowest) of a component of several that nothing outside it points to.
struct LeakComponents {
    /// One bit per allocation.
    private(set) var roots: BitSet
    private(set) var inCycles: BitSet
    /// Leaked allocations some word of a used allocation points to (the same scan finds them).
    private(set) var referenced: BitSet

    /// `leaked` lists the leaked allocations in ascending order; `successors(index, body)` calls
    /// `body` with each leaked allocation that allocation `index` points to.
    init(count: Int, leaked: [Int32], successors: (Int, (Int) -> Void) -> Void) {
        roots = BitSet(count: count)
        inCycles = BitSet(count: count)
        referenced = BitSet(count: count)
        let unvisited = UInt32.max
        let total = leaked.count
        var order = [UInt32](repeating: unvisited, count: total)
        var low = [UInt32](repeating: 0, count: total)
        var component = [UInt32](repeating: unvisited, count: total)
        var componentHasIncoming: [Bool] = []
        var componentFirst: [Int32] = []
        var componentSize: [Int] = []
        var onStack = BitSet(count: total)
        var sccStack: [Int32] = []
        var counter: UInt32 = 0

        func ordinal(_ index: Int) -> Int {
            var lower = 0
            var upper = leaked.count
            while lower < upper {
                let middle = (lower + upper) >> 1
                if Int(leaked[middle]) < index { lower = middle + 1 } else { upper = middle }
            }
            return lower
        }

        struct Frame {
            let node: Int
            var next: [Int32]
            var position = 0
        }
        var frames: [Frame] = []
        for start in 0..<total where order[start] == unvisited {
            func enter(_ node: Int) -> Frame {
                order[node] = counter
                low[node] = counter
                counter += 1
                onStack.insert(node)
                sccStack.append(Int32(node))
                var next: [Int32] = []
                successors(Int(leaked[node])) { target in
                    referenced.insert(target)
                    next.append(Int32(ordinal(target)))
                }
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
                    var first = Int32.max
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
        for ordinal in 0..<total {
            let id = Int(component[ordinal])
            if componentSize[id] > 1 { inCycles.insert(Int(leaked[ordinal])) }
            if !componentHasIncoming[id] && componentFirst[id] == Int32(ordinal) { roots.insert(Int(leaked[ordinal])) }
        }
    }
}
