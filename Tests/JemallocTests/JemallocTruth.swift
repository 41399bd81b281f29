import Foundation
import TestFixtures

/// The jemalloc sample's truth (what mallctl said), in the shape the walker reports.
struct JemallocTruth {
    struct BinCount: Equatable, CustomStringConvertible {
        let regions: Int
        let slabs: Int
        var description: String { "\(regions) regions in \(slabs) slabs" }
    }

    struct Arena {
        let index: Int
        let tcacheBytes: Int
        let bins: [Int: BinCount]
        /// Large-class index (`lextents.<j>`) → current extents.
        let large: [Int: Int]
    }

    let raw: [String: Any]

    init(_ sample: SampleCore) { raw = sample.truth }

    static func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }

    static func arena(_ object: [String: Any], index: Int) -> Arena {
        var bins: [Int: BinCount] = [:]
        for bin in object["bins"] as? [[String: Any]] ?? [] {
            bins[int(bin["bin"])!] = BinCount(regions: int(bin["curregs"])!, slabs: int(bin["curslabs"])!)
        }
        var large: [Int: Int] = [:]
        for extent in object["lextents"] as? [[String: Any]] ?? [] {
            large[int(extent["lextent"])!] = int(extent["curlextents"])!
        }
        return Arena(index: index, tcacheBytes: int(object["tcache_bytes"]) ?? 0, bins: bins, large: large)
    }

    var arenas: [Arena] {
        (raw["arenas"] as? [[String: Any]] ?? []).map { Self.arena($0, index: Self.int($0["index"])!) }
    }

    var merged: Arena { Self.arena(raw["merged"] as? [String: Any] ?? [:], index: -1) }

    func stat(_ name: String) -> UInt64? {
        ((raw["stats"] as? [String: Any])?[name] as? NSNumber)?.uint64Value
    }

    /// (tid, arena) of each thread of the sample.
    var threads: [(tid: Int32, arena: Int)] {
        (raw["per_thread"] as? [[String: Any]] ?? []).map { (Int32(Self.int($0["tid"])!), Self.int($0["arena"])!) }
    }

    /// (size class, tag, live count) of each planted size.
    var planted: [(sizeClass: UInt64, tag: UInt64, live: Int, firstLive: [UInt64])] {
        (raw["planted"] as? [[String: Any]] ?? []).map { entry in
            let first = (entry["per_thread"] as? [[String: Any]] ?? []).compactMap { truthAddress($0["first_live"]) }
            return (UInt64(Self.int(entry["size_class"])!), truthAddress(entry["tag"])!, Self.int(entry["live"])!, first)
        }
    }

    /// (bin, size, nregs, slab size) of every small class, as mallctl's `arenas.bin.<j>.*` gives them.
    var binClasses: [(bin: Int, size: UInt64, regions: Int, slabSize: UInt64)] {
        (raw["bin_classes"] as? [[String: Any]] ?? []).map {
            (Self.int($0["bin"])!, UInt64(Self.int($0["size"])!), Self.int($0["nregs"])!, UInt64(Self.int($0["slab_size"])!))
        }
    }

    var largeSizes: [UInt64] { (raw["lextent_sizes"] as? [NSNumber] ?? []).map(\.uint64Value) }
}
