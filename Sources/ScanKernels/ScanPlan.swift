import ELFCore
import Regions

/// The selected regions of a core cut into chunks that threads can scan independently. Chunk
/// boundaries are multiples of the chunk size in the address space (a multiple of 64), so an
/// aligned word never straddles two chunks; a chunk's `available` bytes run on to the end of its
/// region, so a byte string that starts in one chunk and ends in the next is still seen whole.
public struct ScanPlan: @unchecked Sendable {
    /// A piece of one region's present bytes. Matches and words start in `bytes`; `available`
    /// begins at the same address and extends to the end of the region's present bytes.
    public struct Chunk: @unchecked Sendable {
        public let regionIndex: Int
        public let address: UInt64
        public let bytes: UnsafeRawBufferPointer
        public let available: UnsafeRawBufferPointer
    }

    /// Where one selected region ends and the next begins at the very same address, both present:
    /// gdb reads across such a boundary, so a match may straddle it.
    public struct Seam: Sendable {
        public let leftRegion: Int
        public let address: UInt64
    }

    public let regions: [Region]
    public let chunks: [Chunk]
    public let seams: [Seam]
    /// Present bytes of all selected regions.
    public let totalBytes: UInt64

    public static let maxChunkSize = 64 << 20

    /// `chunkSize` nil picks one that gives each thread several chunks (load balance) without
    /// going below 1 MiB or above 64 MiB.
    public init(regions: [Region], chunkSize: Int? = nil, threads: Int = ParallelScan.defaultThreadCount) {
        self.regions = regions
        let total = regions.reduce(UInt64(0)) { $0 + UInt64($1.bytes.count) }
        totalBytes = total
        var size = chunkSize ?? Self.balancedChunkSize(total: total, threads: threads)
        size = max(64, size - size % 64)
        let step = UInt64(size)
        var chunks: [Chunk] = []
        for (index, region) in regions.enumerated() where region.bytes.count > 0 {
            let regionStart = region.start
            let presentEnd = region.presentEnd
            var address = regionStart
            while address < presentEnd {
                let boundary = (address / step + 1) &* step
                let end = boundary > address ? min(boundary, presentEnd) : presentEnd
                let offset = Int(address - regionStart)
                let bytes = UnsafeRawBufferPointer(rebasing: region.bytes[offset..<Int(end - regionStart)])
                let available = UnsafeRawBufferPointer(rebasing: region.bytes[offset...])
                chunks.append(Chunk(regionIndex: index, address: address, bytes: bytes, available: available))
                address = end
            }
        }
        self.chunks = chunks
        var seams: [Seam] = []
        for index in regions.indices.dropLast() {
            let left = regions[index]
            let right = regions[index + 1]
            if left.presentEnd == left.end, right.start == left.end, !left.bytes.isEmpty, !right.bytes.isEmpty {
                seams.append(Seam(leftRegion: index, address: left.end))
            }
        }
        self.seams = seams
    }

    static func balancedChunkSize(total: UInt64, threads: Int) -> Int {
        let perPiece = total / UInt64(max(1, threads) * 8)
        var size = 1 << 20
        while size < maxChunkSize && UInt64(size) < perPiece { size <<= 1 }
        return size
    }

    /// Up to `count` bytes from `address` on, crossing seams into following regions; fewer when
    /// the contiguous memory ends first. `regionIndex` is the region holding `address`.
    public func contiguousBytes(from address: UInt64, count: Int, regionIndex: Int) -> [UInt8] {
        var result: [UInt8] = []
        var cursor = address
        var index = regionIndex
        while result.count < count, index < regions.count {
            let region = regions[index]
            guard cursor >= region.start, cursor < region.presentEnd else { break }
            let offset = Int(cursor - region.start)
            let take = min(count - result.count, region.bytes.count - offset)
            result.append(contentsOf: region.bytes[offset..<(offset + take)])
            cursor += UInt64(take)
            guard cursor == region.end, index + 1 < regions.count, regions[index + 1].start == cursor else { break }
            index += 1
        }
        return result
    }
}
