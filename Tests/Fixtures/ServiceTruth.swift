import Foundation

/// The truth the `service` sample prints about itself (Samples/README.md, "service"): per tracked
/// type, the address of every object it still reaches (anchored) and of every live object it
/// lost (leaked).
public struct ServiceTruth: Sendable {
    public struct TrackedType: Sendable {
        /// Class or struct name, as in the source.
        public let name: String
        /// "class" (has a vptr) or "struct".
        public let kind: String
        public let size: Int
        /// The dynamic type of the allocation holding the object, as a vtable-based namer sees it
        /// (for `make_shared` objects, the control block).
        public let allocationType: String
        public let anchored: [UInt64]
        public let leaked: [UInt64]
    }

    public let types: [TrackedType]
    /// The type with the most leaked bytes.
    public let plantedLeak: TrackedType

    public init(_ sample: SampleCore) throws {
        guard sample.truth["program"] as? String == "service", let rows = sample.truth["types"] as? [[String: Any]] else {
            throw SampleCoreError.failed("\(sample.truthPath) is not the service sample's truth")
        }
        types = try rows.map { row in
            guard let name = row["name"] as? String, let kind = row["kind"] as? String,
                  let size = (row["size"] as? NSNumber)?.intValue,
                  let allocationType = row["allocation_type"] as? String,
                  let anchored = (row["anchored_addresses"] as? [Any])?.compactMap(truthAddress),
                  let leaked = (row["leaked_addresses"] as? [Any])?.compactMap(truthAddress),
                  anchored.count == (row["anchored"] as? NSNumber)?.intValue,
                  leaked.count == (row["leaked"] as? NSNumber)?.intValue else {
                throw SampleCoreError.failed("\(sample.truthPath): malformed type entry \(row["name"] ?? "?")")
            }
            return TrackedType(name: name, kind: kind, size: size, allocationType: allocationType,
                               anchored: anchored, leaked: leaked)
        }
        guard let planted = types.first(where: { $0.name == sample.truth["planted_leak"] as? String }) else {
            throw SampleCoreError.failed("\(sample.truthPath): planted_leak names no type")
        }
        plantedLeak = planted
    }
}
