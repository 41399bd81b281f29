import ELFCore
import Regions
import ScanKernels

/// Live C++ objects per dynamic type, identified by their vptrs.
///
/// `scan(regions:)` counts every heap word equal to a vtable address point: one pass over the
/// memory (`PointerCensus` counts the distinct words pointing into module data), then each
/// distinct word is examined once. An object is counted by its primary address point, so a
/// `Derived` is never also a `Base`; vptrs of base subobjects are counted separately.
/// `count(objectStarts:)` does the same for a list of object addresses (allocations from an
/// allocator walk), reading only the first word of each.
public struct TypeCensus: Sendable {
    public struct Entry: Sendable {
        public let type: VtableClass
        public internal(set) var objects: Int
        public internal(set) var secondaryVptrs: Int
        public internal(set) var size: ObjectSize?
        /// Where the objects start in their allocations (the most common offset): 0, or the size
        /// of an allocator header before each object (24 for MySQL's my_malloc).
        public internal(set) var objectOffset: UInt64 = 0

        /// Objects × size; nil when the size is a stride most distances disagree with.
        public var estimatedBytes: UInt64? {
            guard let size, size.confidence >= Self.minimumConfidence else { return nil }
            let (bytes, overflow) = size.bytes.multipliedReportingOverflow(by: UInt64(objects))
            return overflow ? nil : bytes
        }

        /// Below this share of agreeing distances a stride is shown but not multiplied out.
        public static let minimumConfidence = 0.5
    }

    /// Sorted by object count, largest first.
    public let entries: [Entry]
    public let scannedBytes: UInt64
    /// Distinct words pointing into module data that were examined.
    public let candidates: Int

    /// Counts the vptrs in `regions` (normally the heap).
    public static func scan(regions: [Region], identifier: TypeIdentifier) -> TypeCensus {
        let memory = identifier.memory
        let census = PointerCensus(filter: AddressFilter(ranges: identifier.modules.dataRanges(in: memory.addressSpace)))
        var scanned: UInt64 = 0
        for region in regions {
            census.scan(region.bytes, at: region.start)
            scanned += UInt64(region.bytes.count)
        }
        let distinct = census.counts
        var tally = Tally()
        for (value, count) in distinct {
            guard let hit = identifier.identify(value) else { continue }
            tally.add(hit, count: count)
        }
        var entries = tally.entries(identifier.catalog)
        sizeFromDWARF(&entries, modules: identifier.modules)
        let unsized = Set(entries.filter { $0.size == nil }.compactMap(\.type.primaryAddressPoint))
        if !unsized.isEmpty {
            var occurrences = PointerOccurrences(values: unsized)
            for region in regions { occurrences.scan(region.bytes, at: region.start) }
            sizeFromStride(&entries) { occurrences.addresses[$0] ?? [] }
        }
        return TypeCensus(entries: sorted(entries), scannedBytes: scanned, candidates: distinct.count)
    }

    /// Counts objects that start at `objectStarts`, by the vptr in their first word. Objects
    /// whose first word is no primary address point are not counted.
    public static func count(objectStarts: [UInt64], identifier: TypeIdentifier) -> TypeCensus {
        var tally = Tally()
        var starts: [UInt64: [UInt64]] = [:]
        for start in objectStarts {
            guard let vptr = identifier.memory.readU64(start), let hit = identifier.identify(vptr), hit.isPrimary else { continue }
            tally.add(hit, count: 1)
            starts[vptr, default: []].append(start)
        }
        var entries = tally.entries(identifier.catalog)
        sizeFromDWARF(&entries, modules: identifier.modules)
        sizeFromStride(&entries) { starts[$0] ?? [] }
        return TypeCensus(entries: sorted(entries), scannedBytes: 0, candidates: starts.count)
    }

    /// Counts objects that are whole allocations (`start`, `usableSize`) from an allocator walk,
    /// by the vptr in their first word: exact counts, and sizes from the allocator rather than
    /// guessed. Secondary vptrs of the object's own class inside it are counted as the word scan
    /// would count them. `forEachAllocation` hands each object to its argument: a walk of tens
    /// of millions of allocations is streamed rather than copied into a list first. An object
    /// behind an allocator header starts `offset` bytes into its allocation; `start` and
    /// `usableSize` are then the object's and the space left for it.
    public static func count(identifier: TypeIdentifier,
                             forEachAllocation: ((_ start: UInt64, _ usableSize: UInt64, _ offset: UInt64) -> Void) -> Void) -> TypeCensus {
        var tally = Tally()
        var sizes: [Int: [UInt64: Int]] = [:]
        var offsets: [Int: [UInt64: Int]] = [:]
        var hint = -1
        let memory = identifier.memory.addressSpace
        forEachAllocation { start, usableSize, offset in
            guard usableSize >= 8,
                  let vptr = memory.view(at: start, count: 8, hint: &hint)?.loadUnaligned(as: UInt64.self),
                  identifier.modules.contains(vptr),
                  let hit = identifier.identify(vptr), hit.isPrimary else { return }
            tally.add(hit, count: 1)
            sizes[hit.classIndex, default: [:]][usableSize, default: 0] += 1
            // Only the offsets of objects behind a header are counted: most objects start at 0,
            // and a hash update per object would cost a large heap a fifth of a second.
            if offset != 0 { offsets[hit.classIndex, default: [:]][offset, default: 0] += 1 }
            // Base-class subobjects' vptrs inside the object, as the word scan reports them.
            guard let body = memory.view(at: start, count: Int(clamping: usableSize), hint: &hint) else { return }
            for offset in stride(from: 8, to: body.count - 7, by: 8) {
                let word = body.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                guard identifier.modules.contains(word), let inner = identifier.identify(word),
                      !inner.isPrimary, inner.classIndex == hit.classIndex else { continue }
                tally.add(inner, count: 1)
            }
        }
        var entries = tally.entries(identifier.catalog)
        for index in entries.indices {
            guard let classIndex = identifier.catalog.classes.firstIndex(of: entries[index].type),
                  let histogram = sizes[classIndex],
                  let common = histogram.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) else { continue }
            let objects = entries[index].objects
            entries[index].size = .allocation(common.key, share: Double(common.value) / Double(max(objects, 1)), objects: objects)
            if let behindHeaders = offsets[classIndex],
               let place = behindHeaders.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }),
               place.value > objects - behindHeaders.values.reduce(0, +) {
                entries[index].objectOffset = place.key
            }
        }
        return TypeCensus(entries: sorted(entries), scannedBytes: 0, candidates: sizes.count)
    }

    /// Counts per class index.
    struct Tally {
        var objects: [Int: Int] = [:]
        var secondary: [Int: Int] = [:]

        mutating func add(_ hit: AddressPointHit, count: Int) {
            if hit.isPrimary {
                objects[hit.classIndex, default: 0] += count
            } else {
                secondary[hit.classIndex, default: 0] += count
            }
        }

        func entries(_ catalog: VtableCatalog) -> [Entry] {
            Set(objects.keys).union(secondary.keys).sorted().map { index in
                Entry(type: catalog.classes[index], objects: objects[index] ?? 0,
                      secondaryVptrs: secondary[index] ?? 0, size: nil)
            }
        }
    }

    static func sizeFromDWARF(_ entries: inout [Entry], modules: ModuleSet) {
        let byModule = Dictionary(grouping: entries.indices, by: { entries[$0].type.module ?? "" })
        for module in modules.modules where module.hasDebugInfo {
            guard let indices = byModule[module.shortName] else { continue }
            let sizes = modules.dwarfByteSizes(of: module, names: Set(indices.map { entries[$0].type.name }))
            for index in indices {
                if let bytes = sizes[entries[index].type.name] { entries[index].size = .dwarf(bytes) }
            }
        }
    }

    static func sizeFromStride(_ entries: inout [Entry], addresses: (UInt64) -> [UInt64]) {
        for index in entries.indices where entries[index].size == nil {
            guard let primary = entries[index].type.primaryAddressPoint,
                  let estimate = StrideEstimate(addresses: addresses(primary)) else { continue }
            entries[index].size = .stride(estimate)
        }
    }

    static func sorted(_ entries: [Entry]) -> [Entry] {
        entries.sorted {
            ($0.objects, $0.secondaryVptrs, $1.type.name) > ($1.objects, $1.secondaryVptrs, $0.type.name)
        }
    }
}
