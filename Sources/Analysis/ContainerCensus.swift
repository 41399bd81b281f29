import Allocators
import ELFCore

/// Which untyped allocations are parts of libstdc++ containers, and of which: the address-free
/// groups `leaks` and `diff` show instead of magics made of stale bytes ("std::map node
/// (80-byte blocks)", "vector body of Channel*", "long string body"). Nodes are recognised by
/// their own links (`NodeShapes`); buffers by the header that points at them, as the mark
/// phase saw it (`Reachability.containerRole`).
struct ContainerCensus {
    /// One container group.
    struct Key: Hashable {
        let role: ContainerRole
        /// The block size for node roles, whose sizes tell containers apart; 0 for buffers.
        let blockSize: UInt64
        /// Vtable address point of the element's dynamic type (a node's value, a vector's first
        /// element or what it points to); 0 when unknown.
        let elementVptr: UInt64
        let elementIsPointer: Bool
    }

    /// The distinct keys, numbered by first appearance.
    private(set) var keys: [Key] = []
    /// Per position in `candidates`: 1 + the number of its key, or 0 for none.
    private var keyNumbers: [UInt16]

    /// `candidates` are allocation indices in ascending order (the classifier's untyped ones);
    /// `isVtable` says whether a word is a known vtable address point.
    init(table: AllocationTable, memory: AddressSpace, reachability: Reachability?, candidates: [UInt32],
         isVtable: (UInt64) -> Bool) {
        keyNumbers = [UInt16](repeating: 0, count: candidates.count)
        guard !candidates.isEmpty else { return }
        let allocations = table.allocations
        let shapes = NodeShapes(memory: memory, allocations: allocations, lookup: reachability?.lookup)
        var numbers: [Key: UInt16] = [:]
        func number(of key: Key) -> UInt16 {
            if let known = numbers[key] { return known }
            guard keys.count < Int(UInt16.max) else { return 0 }
            keys.append(key)
            numbers[key] = UInt16(keys.count)
            return UInt16(keys.count)
        }
        /// The element type a word names: an object starting with a vptr, or a pointer to one.
        func element(_ word: UInt64, inline: Bool) -> (vptr: UInt64, pointer: Bool)? {
            if inline && isVtable(word) { return (word, false) }
            guard word != 0, word & 7 == 0, shapes.isUsedStart(word), let first = memory.readU64(word), isVtable(first)
            else { return nil }
            return (first, true)
        }
        var hint = -1
        var hashNodes: [(index: Int, key: Key)] = []
        for (position, index) in candidates.enumerated() {
            let allocation = allocations[Int(index)]
            guard let words = memory.prefixView(at: allocation.address, upTo: Int(clamping: allocation.usableSize), hint: &hint),
                  words.count >= 16 else { continue }
            let head = UnsafeRawBufferPointer(rebasing: words[..<min(words.count, 32)])
            var key: Key?
            if shapes.isMapNode(allocation, head: head) {
                key = Key(role: .mapNode, blockSize: allocation.blockSize, elementVptr: 0, elementIsPointer: false)
            } else if shapes.isListNode(allocation, head: head) {
                let value = words.count >= 24 ? words.loadUnaligned(fromByteOffset: 16, as: UInt64.self) : 0
                let type = isVtable(value) ? value : 0
                key = Key(role: .listNode, blockSize: allocation.blockSize, elementVptr: type, elementIsPointer: false)
            } else if let role = reachability?.containerRole(ofAllocationAt: Int(index)), role != .none {
                var type: (vptr: UInt64, pointer: Bool)?
                if role == .vectorBody {
                    for slot in 0..<min(4, words.count / 8) {
                        type = element(words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self), inline: slot == 0)
                        if type != nil { break }
                    }
                }
                key = Key(role: role, blockSize: role.groupsBySize ? allocation.blockSize : 0,
                          elementVptr: type?.vptr ?? 0, elementIsPointer: type?.pointer ?? false)
            } else if let nodes = shapes.hashNodes(ofBuckets: Int(index), words: words) {
                key = Key(role: .hashBuckets, blockSize: 0, elementVptr: 0, elementIsPointer: false)
                for node in nodes {
                    hashNodes.append((node, Key(role: .hashNode, blockSize: allocations[node].blockSize,
                                                elementVptr: 0, elementIsPointer: false)))
                }
            }
            if let key { keyNumbers[position] = number(of: key) }
        }
        // A node is one of its container's whatever it looked like on its own.
        for (node, key) in hashNodes {
            guard let position = Self.position(of: UInt32(node), in: candidates) else { continue }
            keyNumbers[position] = number(of: key)
        }
    }

    /// The index in `keys` of the group of `candidates[position]`, or nil when it is no
    /// container part.
    func keyIndex(at position: Int) -> Int? {
        let number = keyNumbers[position]
        return number == 0 ? nil : Int(number) - 1
    }

    private static func position(of index: UInt32, in sorted: [UInt32]) -> Int? {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < index { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count && sorted[low] == index ? low : nil
    }

    /// What one used allocation is to its container, as far as it and the scans tell: its own
    /// links (a map or list node, a bucket array) or the header the scans met. A hash node is
    /// known only from its bucket array, so on its own it is not named.
    static func role(ofAllocationAt index: Int, table: AllocationTable, memory: AddressSpace,
                     reachability: Reachability?) -> ContainerRole? {
        let allocation = table.allocations[index]
        var hint = -1
        guard allocation.isUsed,
              let words = memory.prefixView(at: allocation.address, upTo: Int(clamping: allocation.usableSize), hint: &hint),
              words.count >= 16 else { return nil }
        let shapes = NodeShapes(memory: memory, allocations: table.allocations, lookup: reachability?.lookup)
        let head = UnsafeRawBufferPointer(rebasing: words[..<min(words.count, 32)])
        if shapes.isMapNode(allocation, head: head) { return .mapNode }
        if shapes.isListNode(allocation, head: head) { return .listNode }
        if let role = reachability?.containerRole(ofAllocationAt: index), role != .none { return role }
        return shapes.hashNodes(ofBuckets: index, words: words) != nil ? .hashBuckets : nil
    }

    /// "std::map node (80-byte blocks)", "vector body of Channel*", "long string body".
    static func name(of key: Key, typeName: (UInt64) -> String?) -> String {
        let type = key.elementVptr == 0 ? nil : typeName(key.elementVptr)
        var name = key.role.displayName
        if let type { name += " of \(type)\(key.elementIsPointer ? "*" : "")" }
        if key.role.groupsBySize { name += " (\(key.blockSize)-byte blocks)" }
        return name
    }
}
