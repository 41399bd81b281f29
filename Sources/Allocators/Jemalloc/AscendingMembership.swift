/// Membership in a set of addresses for queries that come in ascending order, as the
/// allocation table's regions do: a cursor over the sorted addresses replaces hashing each of
/// tens of millions of regions. Queries out of order stay correct (the cursor starts over).
struct AscendingMembership {
    private let values: [UInt64]
    private var cursor = 0

    init(_ values: Set<UInt64>) {
        self.values = values.sorted()
    }

    mutating func contains(_ value: UInt64) -> Bool {
        if cursor > 0 && values[cursor - 1] >= value { cursor = 0 }
        while cursor < values.count && values[cursor] < value { cursor += 1 }
        return cursor < values.count && values[cursor] == value
    }
}
