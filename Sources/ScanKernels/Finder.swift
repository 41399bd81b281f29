import Regions

/// One match: where it starts, which needle, which region (index into the scanned regions).
public struct FindHit: Sendable, Hashable {
    public let address: UInt64
    public let needle: Int
    public let regionIndex: Int
}

public struct FindResult: Sendable {
    /// Hits in address order, at most the limit asked for.
    public var hits: [FindHit]
    /// Exact counts, `counts[needle][region]`, whatever the limit.
    public var counts: [[UInt64]]
    public var scannedBytes: UInt64

    public var total: UInt64 { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    public func total(needle: Int) -> UInt64 { counts[needle].reduce(0, +) }
}

/// `find` over the selected regions of a core, in parallel.
public enum Finder {
    /// Hits are collected in slices of this size, so that a chunk with more hits than the limit
    /// stops collecting early while counting goes on.
    static let sliceSize = 256 << 10

    public static func find(_ pattern: FindPattern, in regions: [Region], limit: Int = .max,
                            threads: Int = ParallelScan.defaultThreadCount, progress: Bool = false) -> FindResult {
        let plan = ScanPlan(regions: regions, threads: threads)
        return find(pattern, plan: plan, limit: limit, threads: threads, progress: progress)
    }

    public static func find(_ pattern: FindPattern, plan: ScanPlan, limit: Int = .max,
                            threads: Int = ParallelScan.defaultThreadCount, progress: Bool = false) -> FindResult {
        let needleCount = pattern.needles.count
        let regionCount = plan.regions.count
        let kernelCount = pattern.alignedKernels.count + (pattern.byteKernel == nil ? 0 : 1)
        // Per worker: hits of each chunk (chunk address → hits), counts per needle and region.
        struct WorkerHits {
            var chunkHits: [(address: UInt64, hits: [FindHit])] = []
            var counts: [[UInt64]]
        }
        let workers = ParallelScan.forEachChunk(
            of: plan, threads: threads, progress: progress, label: "finding",
            makeState: { _ in WorkerHits(counts: Array(repeating: Array(repeating: 0, count: regionCount), count: needleCount)) }
        ) { state, chunk in
            var sink = HitSink(needleCount: needleCount)
            sink.collecting = limit > 0
            var offset = 0
            let base = chunk.available.baseAddress!
            while offset < chunk.bytes.count {
                let startLimit = min(sliceSize, chunk.bytes.count - offset)
                let before = sink.addresses.count
                pattern.scan(base + offset, available: chunk.available.count - offset, startLimit: startLimit,
                             address: chunk.address &+ UInt64(offset), into: &sink)
                if kernelCount > 1 && sink.addresses.count - before > 1 {
                    sortTail(&sink, from: before)
                }
                if sink.addresses.count >= limit { sink.collecting = false }
                offset += startLimit
            }
            for needle in 0..<needleCount { state.counts[needle][chunk.regionIndex] &+= sink.counts[needle] }
            let hits = zip(sink.addresses.prefix(limit), sink.needles).map {
                FindHit(address: $0, needle: Int($1), regionIndex: chunk.regionIndex)
            }
            if !hits.isEmpty { state.chunkHits.append((chunk.address, hits)) }
        }
        var counts = Array(repeating: Array(repeating: UInt64(0), count: regionCount), count: needleCount)
        var chunkHits: [(address: UInt64, hits: [FindHit])] = []
        for worker in workers {
            for needle in 0..<needleCount {
                for region in 0..<regionCount { counts[needle][region] &+= worker.counts[needle][region] }
            }
            chunkHits += worker.chunkHits
        }
        var hits = chunkHits.sorted { $0.address < $1.address }.flatMap(\.hits)
        let seamHits = seamMatches(pattern, plan: plan)
        for hit in seamHits { counts[hit.needle][hit.regionIndex] &+= 1 }
        if !seamHits.isEmpty {
            hits = (hits + seamHits).sorted { ($0.address, $0.needle) < ($1.address, $1.needle) }
        }
        if hits.count > limit { hits.removeLast(hits.count - limit) }
        return FindResult(hits: hits, counts: counts, scannedBytes: plan.totalBytes)
    }

    private static func sortTail(_ sink: inout HitSink, from start: Int) {
        let tail = zip(sink.addresses[start...], sink.needles[start...]).sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        sink.addresses.replaceSubrange(start..., with: tail.map(\.0))
        sink.needles.replaceSubrange(start..., with: tail.map(\.1))
    }

    /// Matches that start in one region and end in the next one at the same address: the chunk
    /// kernels never see those, because a chunk's bytes stop at its region's end.
    static func seamMatches(_ pattern: FindPattern, plan: ScanPlan) -> [FindHit] {
        guard pattern.maxLength > 1 else { return [] }
        var hits: [FindHit] = []
        let reach = UInt64(pattern.maxLength - 1)
        for seam in plan.seams {
            let region = plan.regions[seam.leftRegion]
            let windowStart = max(region.start, seam.address - min(reach, seam.address))
            let window = plan.contiguousBytes(from: windowStart, count: Int(seam.address - windowStart) + Int(reach),
                                              regionIndex: seam.leftRegion)
            window.withUnsafeBytes { bytes in
                for offset in 0..<Int(seam.address - windowStart) {
                    let address = windowStart + UInt64(offset)
                    for needle in pattern.needles.indices
                    where address + UInt64(pattern.needles[needle].bytes.count) > seam.address
                        && pattern.matches(needle, in: bytes, at: offset, address: address) {
                        hits.append(FindHit(address: address, needle: needle, regionIndex: seam.leftRegion))
                    }
                }
            }
        }
        return hits
    }
}
