import ELFCore

/// What the allocator says of places in its memory beyond the table's rows: a thread's cache
/// header, an arena's top chunk, and which free list holds a free chunk ("thread 123's tcache
/// bin 3"), as `show` prints them. Free-list chunks are kept as 12 bytes each (the chunk's user
/// address and a list number), not as text.
public struct AllocatorPlaces: Sendable {
    public struct Place: Sendable {
        public let range: Range<UInt64>
        public let what: String
    }

    /// Sorted by start, disjoint.
    public let places: [Place]
    private let listNames: [String]
    /// Sorted user addresses of free-list chunks, with the list (into `listNames`) of each.
    private let chunkAddresses: [UInt64]
    private let chunkLists: [UInt32]

    public static let none = AllocatorPlaces(places: [], listNames: [], chunks: [])

    /// `chunks`: user address and list number (into `listNames`) of each free-list chunk.
    public init(places: [Place], listNames: [String], chunks: [(address: UInt64, list: UInt32)]) {
        self.places = places.sorted { $0.range.lowerBound < $1.range.lowerBound }
        self.listNames = listNames
        let sorted = chunks.filter { Int($0.list) < listNames.count }.sorted { $0.address < $1.address }
        chunkAddresses = sorted.map(\.address)
        chunkLists = sorted.map(\.list)
    }

    /// What the allocator's memory at `address` is, outside any allocation.
    public func place(containing address: UInt64) -> String? {
        places.index(containing: address, start: \.range.lowerBound, end: \.range.upperBound).map { places[$0].what }
    }

    /// The free list holding the free chunk whose user address is `address`.
    public func freeList(ofChunkAt address: UInt64) -> String? {
        let index = chunkAddresses.firstIndex(keyAtLeast: address) { $0 }
        return index < chunkAddresses.count && chunkAddresses[index] == address ? listNames[Int(chunkLists[index])] : nil
    }
}
