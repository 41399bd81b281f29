import ELFCore

/// One thread's tcache as found below its TLS base.
public struct JemallocThreadCache: Sendable {
    public struct Bin: Sendable {
        public let sizeIndex: Int
        /// Address of the `cache_bin_t`.
        public let address: UInt64
        public let capacity: Int
        /// Where the bin's stack of cached pointers starts (`stack_head`).
        public let stackHead: UInt64
        /// The cached (free for the program) regions, most recently freed first.
        public let pointers: [UInt64]
    }

    /// Nil when the cache was found without a thread pointer.
    public let thread: Int32?
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

    /// jemalloc's TSD is at the same offset below every thread's pointer (static TLS), so the
    /// offset most threads agree on picks each thread's own cache; another thread's TLS can lie
    /// in the window too when its stack mapping ends just below this thread's TLS.
    func find(threads: [ThreadState]) -> [JemallocThreadCache] {
        let runs = threads.map { thread -> [Run] in
            guard let pointer = thread.threadPointer, pointer > Self.window else { return [] }
            return self.runs(below: pointer)
        }
        var offsets: [UInt64: Int] = [:]
        for (thread, found) in zip(threads, runs) {
            if let nearest = found.max(by: { $0.address < $1.address }), let pointer = thread.threadPointer {
                offsets[pointer - nearest.address, default: 0] += 1
            }
        }
        let common = offsets.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }
        // Once two threads agree, a thread with no run at that offset has no tcache of its own
        // (it never allocated, or tcache is off), whatever lies further below its TLS.
        let agreed = (common?.value ?? 0) >= 2
        return zip(threads, runs).compactMap { thread, found in
            guard let pointer = thread.threadPointer else { return nil }
            let chosen = agreed ? found.first { pointer - $0.address == common?.key }
                                : found.max { $0.address < $1.address }
            return chosen.map { cache(from: $0, thread: thread.tid) }
        }
    }

    /// A run of chained cache bins.
    struct Run {
        let address: UInt64
        let bins: [(head: UInt64, capacity: Int, count: Int)]
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

    /// Every run of at least 8 chained bins in the window below `threadPointer`.
    func runs(below threadPointer: UInt64) -> [Run] {
        let start = threadPointer - Self.window
        guard let bytes = memory.read(start, count: Int(Self.window)) ?? readPresentSuffix(start, threadPointer) else { return [] }
        return bytes.withUnsafeBytes { raw in runs(in: raw, origin: threadPointer - UInt64(raw.count)) }
    }

    /// Every run of at least 8 chained bins in `raw`, which the process saw at `origin`.
    private func runs(in raw: UnsafeRawBufferPointer, origin: UInt64) -> [Run] {
        var runs: [Run] = []
        var offset = 0
        while offset + 24 <= raw.count {
            var bins: [(head: UInt64, capacity: Int, count: Int)] = []
            var cursor = offset
            var previous: RawBin?
            while let bin = rawBin(raw, cursor), previous.map({ $0.empty == bin.full }) ?? true {
                bins.append((bin.head, bin.capacity, bin.count))
                previous = bin
                cursor += 24
            }
            // A real tcache has every small class; shorter runs are coincidence.
            if bins.count >= 8 { runs.append(Run(address: origin + UInt64(offset), bins: bins)) }
            offset += bins.count > 1 ? 24 * bins.count : 8
        }
        return runs
    }

    /// Without thread pointers (a core cut short loses gdb's thread notes, written last), the
    /// TSDs cannot be located below them: every run of chained bins in writable memory is a
    /// candidate, and `isCache` (every cached pointer a region of its bin's size class) keeps
    /// the real ones, as the extent-map vote keeps leaves whose entries agree with their extents.
    func findWithoutThreads(except known: Set<UInt64>, isCache: (JemallocThreadCache) -> Bool) -> [JemallocThreadCache] {
        var found: [JemallocThreadCache] = []
        for segment in memory.segments where segment.permissions.contains(.write) && segment.presentSize >= 24 {
            guard segment.start & 7 == 0 else { continue }
            for run in runs(in: segment.bytes, origin: segment.start) where !known.contains(run.address) {
                let cache = cache(from: run, thread: nil)
                if isCache(cache) { found.append(cache) }
            }
        }
        return found
    }

    private func cache(from run: Run, thread: Int32?) -> JemallocThreadCache {
        var bins: [JemallocThreadCache.Bin] = []
        for (index, bin) in run.bins.enumerated() {
            var pointers: [UInt64] = []
            if bin.count > 0, let stack = memory.read(bin.head, count: bin.count * 8) {
                pointers = stack.withUnsafeBytes { stackBytes in
                    (0..<bin.count).map { UInt64(littleEndian: stackBytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
                }
            }
            bins.append(.init(sizeIndex: index, address: run.address + UInt64(index * 24), capacity: bin.capacity,
                              stackHead: bin.head, pointers: pointers))
        }
        return JemallocThreadCache(thread: thread, address: run.address, bins: bins)
    }

    /// The part of the window that is in the core, when its start is not (a small TLS mapping).
    private func readPresentSuffix(_ start: UInt64, _ end: UInt64) -> [UInt8]? {
        guard let segment = memory.segment(containing: end - 1), segment.presentEnd >= end else { return nil }
        let from = max(start, segment.start)
        return memory.read(from, count: Int(end - from))
    }
}
