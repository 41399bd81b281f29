/// jemalloc 5.3's in-memory encodings, as measured on x86-64 with 48-bit virtual addresses.
/// Everything that depends on the layout of a jemalloc version lives here, so a new version
/// means a new set of constants, not changes spread through the walker.
enum JemallocLayout {
    /// Significant virtual address bits (`LG_VADDR`).
    static let addressBits: UInt64 = 48
    static let addressMask: UInt64 = (1 << 48) - 1
    /// `edata_t` is 128-byte aligned, which frees the low bits of leaf entries.
    static let edataAlignment: UInt64 = 128
    static let edataSize = 128
    static let edataPointerMask: UInt64 = addressMask & ~(edataAlignment - 1)

    /// The extent map is a two-level radix tree over the page number: 18 bits per level.
    static let levelBits: UInt64 = 18
    static let entriesPerLevel = 1 << 18
    static let leafBytes = entriesPerLevel * 8

    /// Offsets inside `edata_t`.
    static let bitsOffset: UInt64 = 0
    static let addressOffset: UInt64 = 8
    static let sizeOffset: UInt64 = 16
    static let bitmapOffset: UInt64 = 64
    static let bitmapWords = 8

    /// `cache_bin_t` (24 bytes): stack_head, nrequests, then u16 low_water, full, empty.
    static let cacheBinSize: UInt64 = 24
}

/// Extent states (`extent_state_t`).
public enum JemallocExtentState: Int, Sendable, Codable {
    case active = 0, dirty = 1, muzzy = 2, retained = 3, transition = 4, merging = 5

    public var name: String {
        switch self {
        case .active: return "active"
        case .dirty: return "dirty"
        case .muzzy: return "muzzy"
        case .retained: return "retained"
        case .transition: return "transition"
        case .merging: return "merging"
        }
    }
}

/// One entry of an extent-map leaf: `szind << 48 | edata | state << 2 | is_head << 1 | slab`.
struct LeafEntry: Equatable {
    let raw: UInt64

    var sizeIndex: Int { Int(raw >> JemallocLayout.addressBits) }
    var edata: UInt64 { raw & JemallocLayout.edataPointerMask }
    var isSlab: Bool { raw & 1 != 0 }
    var state: Int { Int((raw >> 2) & 7) }
    /// Bits 5 and 6 are below edata's alignment and above the state: always zero.
    var hasValidPadding: Bool { raw & 0x60 == 0 }
}

/// `edata_t.e_bits` of jemalloc 5.3.
struct EdataBits: Equatable {
    let raw: UInt64

    var arena: Int { Int(raw & 0xfff) }
    var isSlab: Bool { (raw >> 12) & 1 != 0 }
    var isCommitted: Bool { (raw >> 13) & 1 != 0 }
    var state: Int { Int((raw >> 17) & 7) }
    var sizeIndex: Int { Int((raw >> 20) & 0xff) }
    var freeCount: Int { Int((raw >> 28) & 0x3ff) }
    var binShard: Int { Int((raw >> 38) & 0x3f) }
    var isHead: Bool { (raw >> 44) & 1 != 0 }
    /// Bits above is_head are unused in 5.3.
    var hasValidHighBits: Bool { raw >> 45 == 0 }

    /// True when a leaf entry says the same as this header: the cross-check behind every vote.
    /// Only active extents keep size class and slab bit in step: when an extent is freed,
    /// jemalloc sets `e_bits`'s class to "none" and updates only the state in the map.
    func agrees(with entry: LeafEntry) -> Bool {
        guard hasValidHighBits, state == entry.state else { return false }
        if state != JemallocExtentState.active.rawValue { return true }
        return entry.sizeIndex < 256 && sizeIndex == entry.sizeIndex && isSlab == entry.isSlab
    }

    /// jemalloc 5.1/5.2 (`extent_t`): state is 2 bits at 16, szind 8 bits at 18, and leaf
    /// entries carry only the slab bit. Used to recognise those versions, never to walk them.
    func agreesAsVersion52(with entry: LeafEntry) -> Bool {
        entry.raw & 0x7e == 0 && Int((raw >> 18) & 0xff) == entry.sizeIndex && isSlab == entry.isSlab
    }
}
