/// What a cluster scan does with each word that passes an `AddressFilter`'s page test.
protocol ClusterHitHandler {
    /// `word` was read at byte offset `offset` from the start of the scanned buffer.
    mutating func record(_ word: UInt64, at offset: Int)
}

/// The shared loop of the pointer kernels: 256 bytes per step tested against three clusters
/// with SIMD, and a cold path that re-reads blocks with a hit, applies the page bitmap and hands
/// the surviving words to the handler.
enum ClusterScan {
    typealias Clusters = (AddressFilter.Cluster, AddressFilter.Cluster, AddressFilter.Cluster)

    static let blockWords = 32

    /// Three clusters always, unused ones with span 0 (no word is below 0).
    static func padded(_ clusters: [AddressFilter.Cluster]) -> Clusters {
        let none = AddressFilter.Cluster(start: 0, span: 0, firstBit: -1)
        return (clusters.count > 0 ? clusters[0] : none, clusters.count > 1 ? clusters[1] : none,
                clusters.count > 2 ? clusters[2] : none)
    }

    /// Scans the 8-byte-aligned words of memory starting at `address`; a trailing partial word
    /// is ignored. Offsets given to the handler are relative to `bytes`.
    static func scan<Handler: ClusterHitHandler>(_ bytes: UnsafeRawBufferPointer, at address: UInt64,
                                                 filter: AddressFilter, handler: inout Handler) {
        guard let base = bytes.baseAddress, !filter.clusters.isEmpty else { return }
        let skip = Int((8 - address & 7) & 7)
        guard bytes.count > skip else { return }
        let words = (bytes.count - skip) / 8
        filter.pageBits.withUnsafeBufferPointer { bits in
            kernel(base, skip: skip, words: words, clusters: padded(filter.clusters), bits: bits, handler: &handler)
        }
    }

    @inline(__always)
    static func kernel<Handler: ClusterHitHandler>(_ buffer: UnsafeRawPointer, skip: Int, words: Int,
                                                   clusters: Clusters, bits: UnsafeBufferPointer<UInt64>,
                                                   handler: inout Handler) {
        let start0 = SIMD8<UInt64>(repeating: clusters.0.start), span0 = SIMD8<UInt64>(repeating: clusters.0.span)
        let start1 = SIMD8<UInt64>(repeating: clusters.1.start), span1 = SIMD8<UInt64>(repeating: clusters.1.span)
        let start2 = SIMD8<UInt64>(repeating: clusters.2.start), span2 = SIMD8<UInt64>(repeating: clusters.2.span)
        @inline(__always) func inside(_ word: SIMD8<UInt64>) -> SIMDMask<SIMD8<Int64>> {
            ((word &- start0) .< span0) .| ((word &- start1) .< span1) .| ((word &- start2) .< span2)
        }
        let base = buffer + skip
        var index = 0
        while index + blockWords <= words {
            let at = base + index * 8
            let hit = inside(at.loadUnaligned(as: SIMD8<UInt64>.self))
                .| inside(at.loadUnaligned(fromByteOffset: 64, as: SIMD8<UInt64>.self))
                .| inside(at.loadUnaligned(fromByteOffset: 128, as: SIMD8<UInt64>.self))
                .| inside(at.loadUnaligned(fromByteOffset: 192, as: SIMD8<UInt64>.self))
            if any(hit) {
                block(buffer, from: skip + index * 8, words: blockWords, clusters: clusters, bits: bits, handler: &handler)
            }
            index += blockWords
        }
        if index < words {
            block(buffer, from: skip + index * 8, words: words - index, clusters: clusters, bits: bits, handler: &handler)
        }
    }

    /// The cold path: re-reads a block word by word.
    @inline(never)
    static func block<Handler: ClusterHitHandler>(_ buffer: UnsafeRawPointer, from offset: Int, words: Int,
                                                  clusters: Clusters, bits: UnsafeBufferPointer<UInt64>,
                                                  handler: inout Handler) {
        for index in 0..<words {
            let at = offset + index * 8
            let word = buffer.loadUnaligned(fromByteOffset: at, as: UInt64.self)
            let cluster: AddressFilter.Cluster
            if word &- clusters.0.start < clusters.0.span {
                cluster = clusters.0
            } else if word &- clusters.1.start < clusters.1.span {
                cluster = clusters.1
            } else if word &- clusters.2.start < clusters.2.span {
                cluster = clusters.2
            } else {
                continue
            }
            if cluster.firstBit >= 0 {
                let bit = cluster.firstBit + Int((word &- cluster.start) >> AddressFilter.pageShift)
                guard bits[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else { continue }
            }
            handler.record(word, at: at)
        }
    }
}
