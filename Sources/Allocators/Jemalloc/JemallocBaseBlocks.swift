import ELFCore

/// jemalloc's metadata blocks (`base_block_t`): the arenas, the extent map's nodes and the
/// `edata_t` records live in them. Their words name extents the allocator tracks, whether the
/// program still holds them or not (an emptied extent-cache bin remembers the address of its
/// last extent), so they are allocator state: neither roots nor scanned.
///
/// A block is mapped on a 2 MiB boundary and starts with its size and the next block, then an
/// `edata_t` describing its unused tail: that tail ends exactly where the block ends, a
/// signature no program data has by chance.
enum JemallocBaseBlocks {
    static let alignment: UInt64 = 2 << 20
    static let edataOffset: UInt64 = 16

    /// Every block in the writable memory of `memory` that overlaps no extent (program data that
    /// happened to look like a header must not hide allocations), as address ranges, sorted.
    static func find(in memory: AddressSpace, outside extents: [JemallocExtent]) -> [Range<UInt64>] {
        find(in: memory).filter { block in
            !extents.contains { $0.base < block.upperBound && block.lowerBound < $0.end }
        }
    }

    static func find(in memory: AddressSpace) -> [Range<UInt64>] {
        var blocks: [Range<UInt64>] = []
        for segment in memory.segments where segment.permissions.contains(.write) {
            let presentEnd = segment.start &+ UInt64(segment.bytes.count)
            // A segment in the last 2 MiB of the address space has no block boundary after its
            // start: rounding up would wrap to 0 and walk every boundary below it.
            let (roundedUp, wraps) = segment.start.addingReportingOverflow(alignment - 1)
            guard !wraps else { continue }
            var candidate = roundedUp & ~(alignment - 1)
            while candidate < presentEnd, presentEnd - candidate >= 64 {
                if let block = block(at: candidate, memory: memory) { blocks.append(block) }
                let (next, overflow) = candidate.addingReportingOverflow(alignment)
                if overflow { break }
                candidate = next
            }
        }
        return blocks
    }

    static func block(at start: UInt64, memory: AddressSpace) -> Range<UInt64>? {
        guard let size = memory.readU64(start), size > 0, size % alignment == 0,
              let next = memory.readU64(start &+ 8), next % alignment == 0,
              let tail = memory.readU64(start &+ edataOffset &+ JemallocLayout.addressOffset),
              let tailSize = memory.readU64(start &+ edataOffset &+ JemallocLayout.sizeOffset) else { return nil }
        let (end, overflow) = start.addingReportingOverflow(size)
        guard !overflow, tail >= start &+ edataOffset &+ UInt64(JemallocLayout.edataSize), tail <= end,
              tailSize == end - tail else { return nil }
        return start..<tail
    }
}
