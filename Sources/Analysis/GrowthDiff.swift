/// What grew between two cores of one program: suspects matched by identity, sorted by how
/// many bytes they gained. Groups that did not change are left out, so identical cores diff
/// to nothing.
public struct GrowthDiff: Sendable, Codable {
    public struct Row: Sendable, Codable, Equatable {
        public var kind: Suspect.Kind
        public var name: String
        public var value: String?
        public var oldCount: Int
        public var newCount: Int
        public var countDelta: Int
        public var oldBytes: UInt64
        public var newBytes: UInt64
        public var byteDelta: Int64
        /// newBytes / oldBytes; nil when the group is new.
        public var growth: Double?
    }

    /// The two core files' paths.
    public var old: String
    public var new: String
    public var rows: [Row]
    public var oldUsedBytes: UInt64
    public var newUsedBytes: UInt64

    public init(old: Classifier.Report, new: Classifier.Report) {
        // Names, not addresses: vtables move between runs (ASLR); a magic's name holds its value.
        func key(_ suspect: Suspect) -> String { "\(suspect.kind.rawValue)|\(suspect.name)|\(suspect.module ?? "")" }
        let oldByKey = Dictionary(old.suspects.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let newByKey = Dictionary(new.suspects.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        var rows: [Row] = []
        for name in Set(oldByKey.keys).union(newByKey.keys) {
            let before = oldByKey[name]
            let after = newByKey[name]
            guard let sample = after ?? before else { continue }
            let oldCount = before?.count ?? 0
            let newCount = after?.count ?? 0
            let oldBytes = before?.bytes ?? 0
            let newBytes = after?.bytes ?? 0
            guard oldCount != newCount || oldBytes != newBytes else { continue }
            rows.append(Row(kind: sample.kind, name: sample.name, value: sample.value, oldCount: oldCount,
                            newCount: newCount, countDelta: newCount - oldCount, oldBytes: oldBytes,
                            newBytes: newBytes, byteDelta: Int64(newBytes) - Int64(oldBytes),
                            growth: oldBytes > 0 ? Double(newBytes) / Double(oldBytes) : nil))
        }
        rows.sort { lhs, rhs in
            lhs.byteDelta != rhs.byteDelta ? lhs.byteDelta > rhs.byteDelta : lhs.name < rhs.name
        }
        self.rows = rows
        self.old = old.core
        self.new = new.core
        oldUsedBytes = old.usedBytes
        newUsedBytes = new.usedBytes
    }
}
