import Allocators
import ELFCore

/// libstdc++'s node containers recognised from the nodes themselves, without debuginfo: a node's
/// links must agree with its neighbours' (a child's parent is the node, the next node's prev is
/// the node), which random data and stale bytes almost never do. An unordered container is
/// found from its bucket array, whose one entry that is not a node points back into the
/// container object beside the array's own address and length.
struct NodeShapes {
    let memory: AddressSpace
    let allocations: AllocationList
    let lookup: AllocationLookup

    init(memory: AddressSpace, allocations: AllocationList, lookup: AllocationLookup?) {
        self.memory = memory
        self.allocations = allocations
        self.lookup = lookup ?? AllocationLookup(allocations)
    }

    /// `_Rb_tree_node` {colour, parent, left, right, value}: the colour an int (0 red, 1 black)
    /// beside 4 bytes of padding, each child's parent this node, and the parent pointing back
    /// at it as a child, or (the root) as the tree header's parent.
    func isMapNode(_ allocation: Allocation, head: UnsafeRawBufferPointer) -> Bool {
        guard allocation.usableSize >= 40, head.count >= 32 else { return false }
        let node = allocation.address
        let colour = head.loadUnaligned(as: UInt64.self) & 0xffff_ffff
        let parent = head.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let left = head.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        let right = head.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        guard colour <= 1, parent != 0, parent & 7 == 0, left & 7 == 0, right & 7 == 0,
              left != node, right != node, parent != node else { return false }
        for child in [left, right] where child != 0 {
            guard memory.readU64(child &+ 8) == node else { return false }
        }
        return memory.readU64(parent &+ 16) == node || memory.readU64(parent &+ 24) == node
            || memory.readU64(parent &+ 8) == node
    }

    /// `_List_node` {next, prev, value}: the next node's prev and the previous node's next are
    /// this node (the list's sentinel, inside the list object, closes the ring).
    func isListNode(_ allocation: Allocation, head: UnsafeRawBufferPointer) -> Bool {
        guard allocation.usableSize >= 24, head.count >= 16 else { return false }
        let node = allocation.address
        let next = head.loadUnaligned(as: UInt64.self)
        let previous = head.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        guard next != 0, previous != 0, next & 7 == 0, previous & 7 == 0, next != node, previous != node
        else { return false }
        return memory.readU64(next &+ 8) == node && memory.readU64(previous) == node
    }

    /// The nodes of the unordered container whose bucket array is allocation `index`, in list
    /// order; nil when the block is no bucket array. `_Hashtable` is {buckets, bucket_count,
    /// before_begin.next, element_count, …}; each used bucket points at the node before its
    /// first one, and the bucket of the first node at `before_begin` in the container itself.
    /// Nodes are counted only when the list holds exactly element_count used blocks.
    func hashNodes(ofBuckets index: Int, words: UnsafeRawBufferPointer) -> [Int]? {
        let array = allocations[index]
        guard array.usableSize >= 16 else { return nil }
        var beforeBegin: UInt64 = 0
        for slot in 0..<(words.count / 8) {
            let entry = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
            guard entry != 0 else { continue }
            guard entry & 7 == 0 else { return nil }
            if isUsedStart(entry) { continue }
            beforeBegin = entry
            break
        }
        guard beforeBegin >= 16, memory.readU64(beforeBegin - 16) == array.address,
              let bucketCount = memory.readU64(beforeBegin - 8), bucketCount >= 2, bucketCount <= array.usableSize / 8,
              ContainerShapes.isTightlySized(usable: array.usableSize, request: bucketCount * 8),
              let elementCount = memory.readU64(beforeBegin &+ 8), elementCount > 0,
              elementCount <= UInt64(allocations.count) else { return nil }
        var nodes: [Int] = []
        var node = memory.readU64(beforeBegin) ?? 0
        // The walk is bounded by element_count, so a ring of nodes ends it too.
        while node != 0 {
            guard nodes.count < elementCount, node & 7 == 0 else { return nil }
            let found = lookup.find(node)
            guard isUsedStart(node), allocations[found].usableSize >= 16 else { return nil }
            nodes.append(found)
            guard let next = memory.readU64(node) else { return nil }
            node = next
        }
        return nodes.count == elementCount ? nodes : nil
    }

    /// The start of a used allocation.
    func isUsedStart(_ value: UInt64) -> Bool {
        let found = lookup.find(value)
        return found >= 0 && allocations[found].address == value && allocations[found].isUsed
    }
}
