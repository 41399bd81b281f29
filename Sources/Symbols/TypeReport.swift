import ELFCore

/// What `heapscan types` shows: the census filtered, ordered and cut as asked, as plain values.
public struct TypeReport: Encodable, Sendable {
    public enum Order: String, Sendable, CaseIterable {
        case count
        case bytes
    }

    public struct Options: Sendable {
        public var minCount: Int
        public var top: Int?
        public var order: Order
        /// Show mangled type names instead of demangled ones.
        public var mangled: Bool

        public init(minCount: Int = 1, top: Int? = nil, order: Order = .count, mangled: Bool = false) {
            self.minCount = minCount
            self.top = top
            self.order = order
            self.mangled = mangled
        }
    }

    public struct Row: Encodable, Sendable {
        public var name: String
        public var objects: Int
        public var secondaryVptrs: Int
        public var size: UInt64?
        public var sizeSource: String?
        public var sizeConfidence: Double?
        /// How many distances a stride size rests on.
        public var sizeSamples: Int?
        public var estimatedBytes: UInt64?
        /// Where the objects start in their allocations: 0, or the allocator header's size.
        public var offset: UInt64
        public var module: String?
        /// The primary address point: the value of each object's first word.
        public var vtable: String?
        public var secondaryAddressPoints: [String]
        public var vtableSymbol: String
        /// `symbols` or `rtti`: how the class was recognised.
        public var identifiedBy: String
    }

    /// The core file's path, as every command's JSON names it.
    public var core: String
    /// How objects were counted: "allocations (glibc 2.36)" or "words".
    public var countedBy: String
    /// Bytes scanned for vptrs when counted by words; absent when allocations were counted.
    public var scannedBytes: UInt64?
    public var candidates: Int
    /// Classes found before `minCount`/`top` applied.
    public var classes: Int
    public var objects: Int
    public var rows: [Row]
    public var warnings: [String]

    public init(census: TypeCensus, file: String, options: Options, warnings: [String], countedBy: String = "words") {
        core = file
        self.countedBy = countedBy
        scannedBytes = countedBy == "words" ? census.scannedBytes : nil
        candidates = census.candidates
        classes = census.entries.count
        objects = census.entries.reduce(0) { $0 + $1.objects }
        var entries = census.entries.filter { $0.objects >= options.minCount || ($0.objects == 0 && $0.secondaryVptrs >= options.minCount) }
        if options.order == .bytes {
            entries.sort { ($0.estimatedBytes ?? 0, $0.objects) > ($1.estimatedBytes ?? 0, $1.objects) }
        }
        if let top = options.top { entries = Array(entries.prefix(max(0, top))) }
        rows = entries.map { entry in
            Row(name: options.mangled ? entry.type.mangledType : entry.type.name,
                objects: entry.objects, secondaryVptrs: entry.secondaryVptrs,
                size: entry.size?.bytes, sizeSource: entry.size?.source.rawValue,
                sizeConfidence: entry.size?.confidence, sizeSamples: entry.size?.samples, estimatedBytes: entry.estimatedBytes,
                offset: entry.objectOffset,
                module: entry.type.module, vtable: entry.type.primaryAddressPoint.map(hex),
                secondaryAddressPoints: entry.type.secondaryAddressPoints.map(hex),
                vtableSymbol: entry.type.mangledVtable, identifiedBy: entry.type.source.rawValue)
        }
        self.warnings = warnings
    }
}
