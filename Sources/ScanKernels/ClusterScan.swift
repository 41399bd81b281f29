import Synchronization

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
        let clusters = padded(filter.clusters)
        filter.pageBits.withUnsafeBufferPointer { bits in
            // One compare per cluster and word: the loop is specialised for the cluster count.
            switch filter.clusters.count {
            case 1: kernel(base, skip: skip, words: words, test: OneCluster(clusters), clusters: clusters, bits: bits, handler: &handler)
            case 2: kernel(base, skip: skip, words: words, test: TwoClusters(clusters), clusters: clusters, bits: bits, handler: &handler)
            default: kernel(base, skip: skip, words: words, test: ThreeClusters(clusters), clusters: clusters, bits: bits, handler: &handler)
            }
        }
    }

    @inline(__always)
    static func kernel<Test: ClusterTest, Handler: ClusterHitHandler>(
        _ buffer: UnsafeRawPointer, skip: Int, words: Int, test: Test, clusters: Clusters,
        bits: UnsafeBufferPointer<UInt64>, handler: inout Handler
    ) {
        let base = buffer + skip
        var index = 0
        // One word of each cache line 4 KiB ahead is loaded early (Swift has no prefetch): the
        // compares make this loop long enough that, without it, fewer lines are in flight than
        // the plain read loop keeps, and it falls to ~0.5 of that loop's speed instead of ~0.65.
        var readAhead: Int64 = 0
        while index + blockWords <= words {
            let at = base + index * 8
            if index + readAheadWords + blockWords <= words {
                let ahead = at + readAheadWords * 8
                readAhead |= ahead.loadUnaligned(as: Int64.self) | ahead.loadUnaligned(fromByteOffset: 64, as: Int64.self)
                    | ahead.loadUnaligned(fromByteOffset: 128, as: Int64.self) | ahead.loadUnaligned(fromByteOffset: 192, as: Int64.self)
            }
            // 256 bytes as eight 4-lane vectors (one AVX2 register each); all lanes ORed, one test.
            var inside = SIMD4<Int64>()
            for vector in 0..<8 {
                inside |= test.lanes(at.loadUnaligned(fromByteOffset: vector * 32, as: SIMD4<Int64>.self))
            }
            if any(inside .!= SIMD4<Int64>()) {
                hitBlock(buffer, from: skip + index * 8, test: test, clusters: clusters, bits: bits, handler: &handler)
            }
            index += blockWords
        }
        if index < words {
            block(buffer, from: skip + index * 8, words: words - index, clusters: clusters, bits: bits, handler: &handler)
        }
        readAheadSink.store(readAhead, ordering: .relaxed)
    }

    static let readAheadWords = 512
    /// Where the read-ahead loads end up, so the optimiser keeps them (atomic: scans may run on
    /// several threads).
    static let readAheadSink = Atomic<Int64>(0)

    /// The cold path for a block with a hit: the compares again, as bits, then only the words
    /// that hit are visited.
    @inline(never)
    static func hitBlock<Test: ClusterTest, Handler: ClusterHitHandler>(
        _ buffer: UnsafeRawPointer, from offset: Int, test: Test, clusters: Clusters,
        bits: UnsafeBufferPointer<UInt64>, handler: inout Handler
    ) {
        let weights = SIMD4<Int64>(1, 2, 4, 8)
        var hits: UInt32 = 0
        for vector in 0..<8 {
            let inside = test.lanes((buffer + offset).loadUnaligned(fromByteOffset: vector * 32, as: SIMD4<Int64>.self))
            hits |= UInt32(truncatingIfNeeded: (inside & weights).wrappedSum()) << UInt32(vector * 4)
        }
        visit(buffer, from: offset, hits: hits, clusters: clusters, bits: bits, handler: &handler)
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

    /// The words of a block whose bits are set in `hits`, checked against the page bitmap and
    /// handed to the handler.
    @inline(__always)
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
}

/// Unsigned `word - start < span` as one signed compare: flipping the top bit of both sides
/// turns unsigned order into signed order, and folds into the subtraction.
struct BiasedCluster {
    let start: SIMD4<Int64>
    let span: SIMD4<Int64>

    init(_ cluster: AddressFilter.Cluster) {
        let top: UInt64 = 1 << 63
        start = SIMD4(repeating: Int64(bitPattern: cluster.start ^ top))
        span = SIMD4(repeating: Int64(bitPattern: cluster.span ^ top))
    }

    /// All ones in the lanes whose word lies in the cluster.
    @inline(__always)
    func lanes(_ word: SIMD4<Int64>) -> SIMD4<Int64> {
        unsafeBitCast((word &- start) .< span, to: SIMD4<Int64>.self)
    }
}

/// The SIMD cluster test of a filter with a given number of clusters.
protocol ClusterTest {
    init(_ clusters: ClusterScan.Clusters)
    /// All ones in the lanes whose word lies in any cluster.
    func lanes(_ word: SIMD4<Int64>) -> SIMD4<Int64>
}

struct OneCluster: ClusterTest {
    let first: BiasedCluster
    init(_ clusters: ClusterScan.Clusters) { first = BiasedCluster(clusters.0) }
    @inline(__always) func lanes(_ word: SIMD4<Int64>) -> SIMD4<Int64> { first.lanes(word) }
}

struct TwoClusters: ClusterTest {
    let first: BiasedCluster, second: BiasedCluster
    init(_ clusters: ClusterScan.Clusters) {
        first = BiasedCluster(clusters.0)
        second = BiasedCluster(clusters.1)
    }
    @inline(__always) func lanes(_ word: SIMD4<Int64>) -> SIMD4<Int64> { first.lanes(word) | second.lanes(word) }
}

struct ThreeClusters: ClusterTest {
    let first: BiasedCluster, second: BiasedCluster, third: BiasedCluster
    init(_ clusters: ClusterScan.Clusters) {
        first = BiasedCluster(clusters.0)
        second = BiasedCluster(clusters.1)
        third = BiasedCluster(clusters.2)
    }
    @inline(__always) func lanes(_ word: SIMD4<Int64>) -> SIMD4<Int64> {
        first.lanes(word) | second.lanes(word) | third.lanes(word)
    }
}
