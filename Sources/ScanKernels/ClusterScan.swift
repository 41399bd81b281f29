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
        // Unsigned `word - start < span` as one signed compare: flipping the top bit of both
        // sides turns unsigned order into signed order, and folds into the subtraction.
        let top: UInt64 = 1 << 63
        func biased(_ cluster: AddressFilter.Cluster) -> (SIMD8<Int64>, SIMD8<Int64>) {
            (SIMD8(repeating: Int64(bitPattern: cluster.start ^ top)), SIMD8(repeating: Int64(bitPattern: cluster.span ^ top)))
        }
        let (start0, span0) = biased(clusters.0), (start1, span1) = biased(clusters.1), (start2, span2) = biased(clusters.2)
        @inline(__always) func inside(_ word: SIMD8<Int64>) -> SIMD8<Int64> {
            let in0 = unsafeBitCast((word &- start0) .< span0, to: SIMD8<Int64>.self)
            let in1 = unsafeBitCast((word &- start1) .< span1, to: SIMD8<Int64>.self)
            let in2 = unsafeBitCast((word &- start2) .< span2, to: SIMD8<Int64>.self)
            return in0 | in1 | in2
        }
        let base = buffer + skip
        var index = 0
        while index + blockWords <= words {
            let at = base + index * 8
            // All four loads first, so they are in flight together.
            let word0 = at.loadUnaligned(as: SIMD8<Int64>.self)
            let word1 = at.loadUnaligned(fromByteOffset: 64, as: SIMD8<Int64>.self)
            let word2 = at.loadUnaligned(fromByteOffset: 128, as: SIMD8<Int64>.self)
            let word3 = at.loadUnaligned(fromByteOffset: 192, as: SIMD8<Int64>.self)
            let lanes0 = inside(word0), lanes1 = inside(word1), lanes2 = inside(word2), lanes3 = inside(word3)
            if any((lanes0 | lanes1 | lanes2 | lanes3) .!= SIMD8<Int64>()) {
                // Rare: the lanes become bits once, and only the words that hit are revisited.
                let hits = UInt32(laneBits(lanes0)) | UInt32(laneBits(lanes1)) << 8
                    | UInt32(laneBits(lanes2)) << 16 | UInt32(laneBits(lanes3)) << 24
                visit(buffer, from: skip + index * 8, hits: hits, clusters: clusters, bits: bits, handler: &handler)
            }
            index += blockWords
        }
        if index < words {
            block(buffer, from: skip + index * 8, words: words - index, clusters: clusters, bits: bits, handler: &handler)
        }
    }

    /// The tail of a scan, shorter than a block: word by word.
    static func block<Handler: ClusterHitHandler>(_ buffer: UnsafeRawPointer, from offset: Int, words: Int,
                                                  clusters: Clusters, bits: UnsafeBufferPointer<UInt64>,
                                                  handler: inout Handler) {
        var hits: UInt32 = 0
        for index in 0..<words {
            let word = buffer.loadUnaligned(fromByteOffset: offset + index * 8, as: UInt64.self)
            if word &- clusters.0.start < clusters.0.span || word &- clusters.1.start < clusters.1.span
                || word &- clusters.2.start < clusters.2.span {
                hits |= 1 << UInt32(index)
            }
        }
        visit(buffer, from: offset, hits: hits, clusters: clusters, bits: bits, handler: &handler)
    }

    /// The cold path: the words of a block whose bits are set in `hits`, checked against the
    /// page bitmap and handed to the handler.
    @inline(never)
    static func visit<Handler: ClusterHitHandler>(_ buffer: UnsafeRawPointer, from offset: Int, hits: UInt32,
                                                  clusters: Clusters, bits: UnsafeBufferPointer<UInt64>,
                                                  handler: inout Handler) {
        let base = buffer + offset
        var hits = hits
        while hits != 0 {
            let index = hits.trailingZeroBitCount
            hits &= hits - 1
            let word = base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)
            // The cluster's page bit, chosen without branches (hits fall in clusters at random).
            let in0 = word &- clusters.0.start < clusters.0.span
            let in1 = word &- clusters.1.start < clusters.1.span
            let start = in0 ? clusters.0.start : in1 ? clusters.1.start : clusters.2.start
            let firstBit = in0 ? clusters.0.firstBit : in1 ? clusters.1.firstBit : clusters.2.firstBit
            if firstBit >= 0 {
                let bit = firstBit + Int((word &- start) >> AddressFilter.pageShift)
                guard bits[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else { continue }
            }
            handler.record(word, at: offset + index * 8)
        }
    }

    /// Bit i set when lane i is all ones (a weighted sum: Swift has no movemask).
    @inline(__always)
    static func laneBits(_ lanes: SIMD8<Int64>) -> UInt8 {
        UInt8(truncatingIfNeeded: (lanes & SIMD8<Int64>(1, 2, 4, 8, 16, 32, 64, 128)).wrappedSum())
    }
}
