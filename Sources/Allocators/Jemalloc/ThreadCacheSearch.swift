import ELFCore

/// One thread's tcache as found below its TLS base.
public struct JemallocThreadCache: Sendable {
    public struct Bin: Sendable {
        public let sizeIndex: Int
        /// Address of the `cache_bin_t`.
        public let address: UInt64
        public let capacity: Int
        /// The cached (free for the program) regions, most recently freed first.
        public let pointers: [UInt64]
    }

    public let thread: Int32
    /// Address of `bins[0]` in the thread's TSD.
    public let address: UInt64
    /// Bins with a stack (jemalloc's `nhbins`), indexed by size class.
    public let bins: [Bin]
}

/// Finds each thread's `tcache_t.bins[]` without symbols: jemalloc's TSD sits in static TLS
/// just below the thread pointer, and its cache bins form the longest run of 24-byte
/// `cache_bin_t {stack_head, nrequests, u16 low_water, full, empty}` whose stacks are laid end to
/// end (bin k+1's full position is bin k's empty position).
struct ThreadCacheSearch {
    let memory: AddressSpace
    /// How far below the thread pointer to look: the static TLS of every module loaded at start.
    static let window: UInt64 = 64 << 10

    func find(threads: [ThreadState]) -> [JemallocThreadCache] {
        threads.compactMap { thread in
            guard let pointer = thread.threadPointer, pointer > Self.window else { return nil }
            return find(threadPointer: pointer, thread: thread.tid)
        }
    }

    private struct RawBin {
        let head: UInt64
        let full: UInt16
        let empty: UInt16
        var capacity: Int { Int(empty &- full) / 8 }
        var count: Int { Int(empty &- UInt16(truncatingIfNeeded: head)) / 8 }
    }

    private func rawBin(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> RawBin? {
        guard offset + 24 <= bytes.count else { return nil }
        let head = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let full = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 18, as: UInt16.self))
        let empty = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 20, as: UInt16.self))
        let padding = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 22, as: UInt16.self))
        guard head != 0, head & 7 == 0, head <= JemallocLayout.addressMask, padding == 0 else { return nil }
        let bin = RawBin(head: head, full: full, empty: empty)
        let span = empty &- full
        let used = empty &- UInt16(truncatingIfNeeded: head)
        guard span > 0, span % 8 == 0, used % 8 == 0, used <= span else { return nil }
        return bin
    }

    func find(threadPointer: UInt64, thread: Int32) -> JemallocThreadCache? {
        let start = threadPointer - Self.window
        guard let bytes = memory.read(start, count: Int(Self.window)) ?? readPresentSuffix(start, threadPointer) else { return nil }
        return bytes.withUnsafeBytes { raw -> JemallocThreadCache? in
            let origin = threadPointer - UInt64(raw.count)
            var best: (offset: Int, length: Int)?
            var offset = 0
            while offset + 24 <= raw.count {
                var length = 0
                var cursor = offset
                var previous: RawBin?
                while let bin = rawBin(raw, cursor), previous.map({ $0.empty == bin.full }) ?? true {
                    length += 1
                    previous = bin
                    cursor += 24
                }
                if length > (best?.length ?? 0) { best = (offset, length) }
                offset += length > 1 ? 24 * length : 8
            }
            // A real tcache has every small class; shorter runs are coincidence.
            guard let best, best.length >= 8 else { return nil }
            var bins: [JemallocThreadCache.Bin] = []
            for index in 0..<best.length {
                let bin = rawBin(raw, best.offset + index * 24)!
                var pointers: [UInt64] = []
                if bin.count > 0, let stack = memory.read(bin.head, count: bin.count * 8) {
                    pointers = stack.withUnsafeBytes { stackBytes in
                        (0..<bin.count).map { UInt64(littleEndian: stackBytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
                    }
                }
                bins.append(.init(sizeIndex: index, address: origin + UInt64(best.offset + index * 24),
                                  capacity: bin.capacity, pointers: pointers))
            }
            return JemallocThreadCache(thread: thread, address: origin + UInt64(best.offset), bins: bins)
        }
    }

    /// The part of the window that is in the core, when its start is not (a small TLS mapping).
    private func readPresentSuffix(_ start: UInt64, _ end: UInt64) -> [UInt8]? {
        guard let segment = memory.segment(containing: end - 1), segment.presentEnd >= end else { return nil }
        let from = max(start, segment.start)
        return memory.read(from, count: Int(end - from))
    }
}
