import ELFCore
import ScanKernels

/// How the chunk walk of one heap ended.
struct GlibcChunkWalkOutcome {
    /// Address where the walk stopped: the end of the top chunk, the end-of-heap fencepost, or
    /// the chunk that could not be trusted.
    var end: UInt64
    var topSize: UInt64?
    /// Free chunks the walk saw (next chunk's PREV_INUSE clear), top excluded.
    var freeChunks = 0
    var freeBytes: UInt64 = 0
    /// Bytes of fenceposts (16-byte chunks glibc puts at the end of a heap it left).
    var fencepostBytes: UInt64 = 0
    var problem: String?
    /// A chunk whose size reached exactly to top over a consistent chain of chunks inside it:
    /// its size field was taken as damaged, and the chain walked.
    var hidden: (chunk: UInt64, claimedSize: UInt64, chainStart: UInt64, chainChunks: Int)?
    /// Damaged chunks stepped over: from the bad header to the chain that leads on to top.
    var skipped: [(from: UInt64, to: UInt64, problem: String)] = []
    /// Keeps the walk's read-ahead loads from being optimised away; meaningless otherwise.
    var lookaheadSum: UInt64 = 0
}

/// Walks a heap's chunks by their size fields, writing one `Allocation` per chunk.
enum GlibcChunkWalk {
    /// Walks from `first` until `top` (if the heap holds top) or the zero-size fencepost that ends
    /// a heap glibc moved on from. `bytes` holds the heap's present memory starting at `base`;
    /// `limit` is the heap's end. Every chunk's size is checked against the heap's end and
    /// top before it is used, so a corrupt size stops the walk with a message instead of a
    /// wild read. The caller guarantees `output` has room for (limit - first) / 16 entries.
    static func walk(bytes: UnsafeRawBufferPointer, base: UInt64, first: UInt64, top: UInt64?,
                     limit: UInt64, arena: Int32,
                     output: UnsafeMutablePointer<Allocation>, count: inout Int,
                     progress: ProgressLine? = nil) -> GlibcChunkWalkOutcome {
        let presentEnd = base + UInt64(bytes.count)
        let end = min(limit, presentEnd)
        var outcome = GlibcChunkWalkOutcome(end: first)
        guard first >= base, first + GlibcLayout.chunkHeader <= end else {
            outcome.problem = "heap at \(hex(base)): first chunk \(hex(first)) is not in the core"
            return outcome
        }
        let endOffset = Int(end - base)
        // Top's own header must be readable too, or reading its size would run off the bytes.
        let topOffset = top.flatMap { $0 >= first && $0 < end && end - $0 >= GlibcLayout.chunkHeader ? Int($0 - base) : nil } ?? -1
        // A chunk's successor header must be readable and, when the heap holds top, not past it.
        let nextLimit = topOffset >= 0 ? topOffset : endOffset - 16
        var offset = Int(first - base)
        var written = count
        var freeChunks = 0
        var freeBytes = 0
        var fencepostBytes = 0
        var sizeField = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
        var lookahead: UInt64 = 0
        let lastByte = bytes.count - 1
        var lastChunk = -1
        var checkedHidden = false
        // Bytes walked are reported every `reportEvery` chunks: a compare per chunk, no call.
        let reportEvery = 1 << 18
        var reportAt = written &+ reportEvery
        var reportedOffset = offset
        defer { progress?.advance(UInt64(max(0, offset - reportedOffset))) }
        // The hot loop only walks; every way out is explained after it.
        while true {
            if written >= reportAt {
                reportAt = written &+ reportEvery
                progress?.advance(UInt64(max(0, offset - reportedOffset)))
                reportedOffset = offset
            }
            if offset == topOffset {
                // A damaged size that lands exactly on top is consistent and would silently hide
                // every chunk after it: the last chunk's memory is checked for such a chain once.
                guard !checkedHidden, lastChunk >= 0, written > count else { break }
                checkedHidden = true
                guard let chain = hiddenChain(bytes, from: lastChunk, to: topOffset) else { break }
                let claimed = UInt64(topOffset - lastChunk)
                let previous = output + (written - 1)
                let inUse = bytes.loadUnaligned(fromByteOffset: chain.start + 8, as: UInt64.self) & GlibcLayout.prevInUse != 0
                if !previous.pointee.isUsed {
                    freeChunks -= 1
                    freeBytes -= Int(claimed)
                }
                let size = chain.start - lastChunk
                previous.pointee = Allocation(address: base &+ UInt64(lastChunk + 16), usableSize: UInt64(size - 8),
                                              blockSize: UInt64(size), isUsed: inUse, arena: arena)
                if !inUse {
                    freeChunks += 1
                    freeBytes &+= size
                }
                outcome.hidden = (base &+ UInt64(lastChunk), claimed, base &+ UInt64(chain.start), chain.chunks)
                offset = chain.start
                sizeField = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
                continue
            }
            let size = Int(truncatingIfNeeded: sizeField & ~GlibcLayout.flagBits)
            let next = offset &+ size
            guard size >= 16, size & 15 == 0, sizeField & GlibcLayout.isMmapped == 0,
                  next >= 0, next <= nextLimit else {
                // One bad size costs its chunk, not the rest of the heap: when a consistent chain
                // of chunks inside what follows leads to top, the walk resumes there (the chunk is
                // known bad, so a chain of one chunk is enough evidence).
                guard topOffset >= 0, outcome.skipped.count < maxSkips,
                      let chain = hiddenChain(bytes, from: offset, to: topOffset, minimumChunks: 1) else { break }
                outcome.skipped.append((base &+ UInt64(offset), base &+ UInt64(chain.start),
                                        badChunk(at: base &+ UInt64(offset), sizeField: sizeField)))
                offset = chain.start
                sizeField = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
                continue
            }
            let nextField = bytes.loadUnaligned(fromByteOffset: next + 8, as: UInt64.self)
            // An independent load 2 KiB ahead: the size chain is a dependent load per chunk, and
            // this brings the coming lines and pages in while the chain waits.
            lookahead &+= UInt64(bytes[min(next &+ 2048, lastByte)])
            let inUse = nextField & GlibcLayout.prevInUse != 0
            if size == 16 {
                fencepostBytes &+= 16
            } else {
                lastChunk = offset
                (output + written).initialize(to: Allocation(
                    address: base &+ UInt64(offset + 16), usableSize: UInt64(size - 8),
                    blockSize: UInt64(size), isUsed: inUse, arena: arena))
                written += 1
                if !inUse {
                    freeChunks += 1
                    freeBytes &+= size
                }
            }
            offset = next
            sizeField = nextField
        }
        count = written
        outcome.lookaheadSum = lookahead
        outcome.freeChunks = freeChunks
        outcome.freeBytes = UInt64(freeBytes)
        outcome.fencepostBytes = UInt64(fencepostBytes)
        outcome.end = base + UInt64(offset)
        let size = Int(truncatingIfNeeded: sizeField & ~GlibcLayout.flagBits)
        if offset == topOffset {
            if size >= 0, size & 15 == 0, size <= endOffset - offset {
                outcome.end = base + UInt64(offset + size)
                outcome.topSize = UInt64(size)
            } else {
                outcome.problem = "top chunk at \(hex(base + UInt64(offset))) has size field \(hex(sizeField)), past the heap end \(hex(end))"
            }
        } else if size == 0 && topOffset < 0 {
            // The zero-size fencepost that ends a heap glibc moved on from.
        } else {
            outcome.problem = badChunk(at: base + UInt64(offset), sizeField: sizeField)
        }
        return outcome
    }

    /// Damaged regions a walk may step over before it gives the rest of a heap up.
    static let maxSkips = 64

    private static func badChunk(at chunk: UInt64, sizeField: UInt64) -> String {
        let size = sizeField & ~GlibcLayout.flagBits
        if size < 16 || size & 15 != 0 || sizeField & GlibcLayout.isMmapped != 0 {
            return "chunk at \(hex(chunk)) has a bad size field \(hex(sizeField))"
        }
        return "chunk at \(hex(chunk)) has size \(hex(size)), which runs past the heap end or top"
    }

    /// The earliest chain of at least `minimumChunks` chunks that starts inside the chunk at
    /// `chunk` (after its smallest possible size) and ends exactly at `end`, each chunk aligned, at least
    /// MINSIZE, not mmapped, a free one's successor holding its size as prev_size. Positions
    /// are tried in order and every position a failed chain passed through is remembered, so the
    /// search reads each word of the chunk at most once.
    static func hiddenChain(_ bytes: UnsafeRawBufferPointer, from chunk: Int, to end: Int,
                            minimumChunks: Int = 2) -> (start: Int, chunks: Int)? {
        let first = chunk + Int(GlibcLayout.minChunk)
        guard end - first >= minimumChunks * Int(GlibcLayout.minChunk) else { return nil }
        var failed = [UInt64](repeating: 0, count: (end - first) / 16 / 64 + 1)
        func isFailed(_ offset: Int) -> Bool {
            let slot = (offset - first) / 16
            return failed[slot >> 6] >> UInt64(slot & 63) & 1 != 0
        }
        var path: [Int] = []
        // Rejected chains are walked again from later starts; this keeps the search linear.
        var budget = 4 * ((end - first) / 16) + 64
        for start in stride(from: first, to: end, by: 16) where !isFailed(start) {
            budget -= path.count + 1
            guard budget > 0 else { return nil }
            path.removeAll(keepingCapacity: true)
            var offset = start
            var reached = false
            while offset < end && !isFailed(offset) {
                path.append(offset)
                let field = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
                let size = Int(truncatingIfNeeded: field & ~GlibcLayout.flagBits)
                guard size >= Int(GlibcLayout.minChunk), size & 15 == 0, field & GlibcLayout.isMmapped == 0,
                      size <= end - offset else { break }
                let next = offset + size
                let nextField = bytes.loadUnaligned(fromByteOffset: next + 8, as: UInt64.self)
                if nextField & GlibcLayout.prevInUse == 0 {
                    guard bytes.loadUnaligned(fromByteOffset: next, as: UInt64.self) == UInt64(size) else { break }
                }
                if next == end {
                    reached = true
                    break
                }
                offset = next
            }
            if reached && path.count >= minimumChunks {
                // The damaged chunk is in use (its successor says so) or free with the right prev_size.
                let field = bytes.loadUnaligned(fromByteOffset: start + 8, as: UInt64.self)
                if field & GlibcLayout.prevInUse != 0
                    || bytes.loadUnaligned(fromByteOffset: start, as: UInt64.self) == UInt64(start - chunk) {
                    return (start, path.count)
                }
            }
            // A chain that reached `end` but was rejected at its start still leads there from
            // inside; only chains that broke are remembered as dead ends.
            guard !reached else { continue }
            for offset in path {
                let slot = (offset - first) / 16
                failed[slot >> 6] |= 1 << UInt64(slot & 63)
            }
        }
        return nil
    }

    /// The top chunk of a brk heap found without its arena: chunks walked by size from `first`
    /// (each at least MINSIZE, aligned, not mmapped) must end exactly at the end of `bytes`,
    /// the last one with PREV_INUSE set as top always has. Nil when they do not.
    static func topByWalking(bytes: UnsafeRawBufferPointer, base: UInt64, first: UInt64) -> UInt64? {
        guard first >= base, first - base <= UInt64(bytes.count) else { return nil }
        var offset = Int(first - base)
        let end = bytes.count
        while offset + 16 <= end {
            let field = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
            let size = Int(truncatingIfNeeded: field & ~GlibcLayout.flagBits)
            guard size >= Int(GlibcLayout.minChunk), size & 15 == 0, field & GlibcLayout.isMmapped == 0,
                  size <= end - offset else { return nil }
            if size == end - offset { return field & GlibcLayout.prevInUse != 0 ? base + UInt64(offset) : nil }
            offset += size
        }
        return nil
    }

    /// glibc-mmapped chunks in an anonymous range: at a page start, prev_size 0 and a size that
    /// is a page multiple with exactly IS_MMAPPED set. Every page start is tried, because the
    /// kernel merges a chunk's mapping with neighbouring anonymous mappings of the program;
    /// a found chunk is skipped whole, so its contents are never mistaken for headers.
    static func mmappedChunks(memory bytes: UnsafeRawBufferPointer, base: UInt64, limit: UInt64,
                              pageSize: UInt64) -> [(chunk: UInt64, size: UInt64)] {
        var found: [(UInt64, UInt64)] = []
        let presentEnd = min(limit, base + UInt64(bytes.count))
        guard base <= UInt64.max - pageSize else { return [] }
        var cursor = (base + pageSize - 1) / pageSize * pageSize
        // A range at the very top of the address space must end the loop, not wrap it.
        while cursor <= presentEnd &- GlibcLayout.chunkHeader, presentEnd >= GlibcLayout.chunkHeader {
            let offset = Int(cursor - base)
            let prevSize = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let sizeField = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
            let size = sizeField & ~GlibcLayout.flagBits
            if prevSize == 0, sizeField & GlibcLayout.flagBits == GlibcLayout.isMmapped,
               size >= pageSize, size % pageSize == 0, size <= limit - cursor {
                found.append((cursor, size))
                let (next, overflow) = cursor.addingReportingOverflow(size)
                guard !overflow else { break }
                cursor = next
            } else {
                let (next, overflow) = cursor.addingReportingOverflow(pageSize)
                guard !overflow else { break }
                cursor = next
            }
        }
        return found
    }
}
