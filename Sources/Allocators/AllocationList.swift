/// The allocations of a table, 16 bytes each, in memory or (when the structures of a leak hunt
/// would not fit, see `MemoryBudget`) in a file mapping. An array with Array's ways of building
/// (`init(unsafeUninitializedCapacity:initializingWith:)`, `append`) and copy-on-write.
public struct AllocationList: RandomAccessCollection, MutableCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
    // Inlinable so that the mark and classify loops of Analysis index the table without a call
    // and a retain per allocation.
    @usableFromInline final class Storage: @unchecked Sendable {
        let memory: BulkMemory
        @usableFromInline let elements: UnsafeMutablePointer<Allocation>
        let capacity: Int
        @usableFromInline var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            memory = BulkMemory(byteCount: capacity * MemoryLayout<Allocation>.stride,
                                inFile: MemoryBudget.needsFile(allocations: capacity))
            elements = memory.base.bindMemory(to: Allocation.self, capacity: capacity)
        }

        func copy(capacity newCapacity: Int) -> Storage {
            let copy = Storage(capacity: newCapacity)
            copy.elements.initialize(from: elements, count: count)
            copy.count = count
            return copy
        }
    }

    @usableFromInline var storage: Storage

    public init() { storage = Storage(capacity: 0) }

    public init<Elements: Sequence>(_ elements: Elements) where Elements.Element == Allocation {
        storage = Storage(capacity: elements.underestimatedCount)
        for element in elements { append(element) }
    }

    public init(arrayLiteral elements: Allocation...) { self.init(elements) }

    /// Like Array's: `initializer` writes up to `capacity` allocations and sets how many it wrote.
    public init(unsafeUninitializedCapacity capacity: Int,
                initializingWith initializer: (inout UnsafeMutableBufferPointer<Allocation>, inout Int) throws -> Void) rethrows {
        storage = Storage(capacity: capacity)
        var buffer = UnsafeMutableBufferPointer(start: storage.elements, count: capacity)
        var count = 0
        try initializer(&buffer, &count)
        precondition(count >= 0 && count <= capacity, "initialized more allocations than the capacity")
        storage.count = count
    }

    /// Whether the allocations live in a file mapping.
    public var isFileBacked: Bool { storage.memory.isFileBacked }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storage.count }

    @inlinable public subscript(position: Int) -> Allocation {
        get {
            precondition(position >= 0 && position < storage.count, "allocation index out of range")
            return storage.elements[position]
        }
        set {
            precondition(position >= 0 && position < storage.count, "allocation index out of range")
            makeUnique()
            storage.elements[position] = newValue
        }
    }

    public mutating func reserveCapacity(_ capacity: Int) {
        guard capacity > storage.capacity else { return makeUnique() }
        storage = storage.copy(capacity: capacity)
    }

    public mutating func append(_ allocation: Allocation) {
        if storage.count == storage.capacity {
            storage = storage.copy(capacity: Swift.max(16, storage.capacity * 2))
        } else {
            makeUnique()
        }
        (storage.elements + storage.count).initialize(to: allocation)
        storage.count += 1
    }

    public mutating func removeLast(_ count: Int) {
        precondition(count >= 0 && count <= storage.count, "removing more allocations than there are")
        makeUnique()
        storage.count -= count
    }

    @inlinable public func withUnsafeBufferPointer<Result>(_ body: (UnsafeBufferPointer<Allocation>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: storage.elements, count: storage.count))
    }

    public mutating func withUnsafeMutableBufferPointer<Result>(
        _ body: (UnsafeMutableBufferPointer<Allocation>) throws -> Result) rethrows -> Result {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.elements, count: storage.count))
    }

    public static func == (left: AllocationList, right: AllocationList) -> Bool {
        left.elementsEqual(right)
    }

    @usableFromInline mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy(capacity: storage.capacity) }
    }
}
