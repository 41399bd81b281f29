/// Where in memory given word values occur: for each value, the addresses of the 8-byte-aligned
/// words equal to it, in address order, at most `limit` per value (bounded memory). One pass
/// at the speed of `ClusterScan`, with a filter built from the values themselves.
public struct PointerOccurrences {
    public let values: [UInt64]
    public let limit: Int
    public private(set) var addresses: [UInt64: [UInt64]] = [:]
    private let filter: AddressFilter

    public init(values: Set<UInt64>, limit: Int = 1 << 17) {
        self.values = values.sorted()
        self.limit = limit
        filter = AddressFilter(ranges: self.values.filter { $0 != .max }.map { ($0, $0 + 1) })
    }

    /// Records the occurrences in `bytes`, the memory starting at `address`. Scan memory in
    /// increasing address order to keep each list sorted.
    public mutating func scan(_ bytes: UnsafeRawBufferPointer, at address: UInt64) {
        var recorder = Recorder(base: address, limit: limit, exact: filter, found: addresses)
        addresses = [:]
        ClusterScan.scan(bytes, at: address, filter: filter, handler: &recorder)
        addresses = recorder.found
    }

    struct Recorder: ClusterHitHandler {
        let base: UInt64
        let limit: Int
        let exact: AddressFilter
        var found: [UInt64: [UInt64]]

        mutating func record(_ word: UInt64, at offset: Int) {
            guard exact.contains(word) else { return }
            let address = base &+ UInt64(offset)
            if let count = found[word]?.count, count >= limit { return }
            found[word, default: []].append(address)
        }
    }
}
