import ELFCore
import Regions

/// The fields of a `malloc_state` the walker needs, read after its shape was checked.
struct GlibcArenaFields {
    var address: UInt64
    var flags: UInt32
    var fastbins: [UInt64]
    var top: UInt64
    var next: UInt64
    var systemMem: UInt64
    /// Bins whose own fd/bk are not both aligned non-null pointers (or both the bin itself):
    /// damage that costs those bins' chunks, not the arena.
    var damagedBins: [Int] = []

    /// A fresh arena's top is its own unsorted bin: it never got memory.
    var hasHeap: Bool { top != GlibcLayout.bin(1, of: address) }
}

/// Finds arenas in a core without libc symbols: `main_arena` by its shape inside libc's
/// writable data, the others through the circular `next` list, and each arena's heaps through
/// the 64 MiB-aligned `heap_info` headers.
struct GlibcArenaLocator {
    let memory: AddressSpace
    let regions: RegionMap

    /// A few damaged bins do not make an arena unrecognisable: random data never has 32 bins
    /// pointing at themselves, so the other checks still single out real arenas.
    static let toleratedDamagedBins = 4

    /// The `malloc_state` at `address` if every field has a value a real arena can hold:
    /// small lock and flag words, 16-byte aligned chunk pointers, each bin either empty
    /// (pointing at itself) or linked to aligned chunks (up to `toleratedDamagedBins` excepted,
    /// which are listed in `damagedBins`), and system_mem ≤ max_system_mem.
    func arena(at address: UInt64) -> GlibcArenaFields? {
        guard address % 8 == 0, let bytes = memory.read(address, count: Int(GlibcLayout.stateSize)) else { return nil }
        return bytes.withUnsafeBytes { raw -> GlibcArenaFields? in
            func u64(_ offset: UInt64) -> UInt64 { raw.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self) }
            func u32(_ offset: UInt64) -> UInt32 { raw.loadUnaligned(fromByteOffset: Int(offset), as: UInt32.self) }
            let mutex = u32(GlibcLayout.stateMutex)
            let flags = u32(GlibcLayout.stateFlags)
            let haveFastchunks = u32(GlibcLayout.stateHaveFastchunks)
            guard mutex <= 2, flags & ~3 == 0, haveFastchunks <= 1 else { return nil }
            let top = u64(GlibcLayout.stateTop)
            guard top != 0, top % GlibcLayout.alignment == 0 else { return nil }
            var fastbins: [UInt64] = []
            for index in 0..<GlibcLayout.fastbinCount {
                let head = u64(GlibcLayout.stateFastbins + UInt64(index) * 8)
                guard head % GlibcLayout.alignment == 0 else { return nil }
                fastbins.append(head)
            }
            var emptyBins = 0
            var damagedBins: [Int] = []
            for index in 1..<GlibcLayout.binCount {
                let offset = GlibcLayout.stateBins + UInt64(index - 1) * 16
                let forward = u64(offset)
                let backward = u64(offset + 8)
                let selfAddress = GlibcLayout.bin(index, of: address)
                if forward == selfAddress && backward == selfAddress {
                    emptyBins += 1
                    continue
                }
                guard forward != 0, backward != 0, forward != selfAddress, backward != selfAddress,
                      forward % GlibcLayout.alignment == 0, backward % GlibcLayout.alignment == 0 else {
                    damagedBins.append(index)
                    guard damagedBins.count <= Self.toleratedDamagedBins else { return nil }
                    continue
                }
            }
            // A real arena never has most of its 127 bins in use at once; random data that
            // passes the alignment checks would.
            guard emptyBins >= 32 else { return nil }
            let next = u64(GlibcLayout.stateNext)
            let systemMem = u64(GlibcLayout.stateSystemMem)
            let maxSystemMem = u64(GlibcLayout.stateMaxSystemMem)
            guard next != 0, next % 8 == 0, systemMem <= maxSystemMem else { return nil }
            return GlibcArenaFields(address: address, flags: flags, fastbins: fastbins, top: top,
                                    next: next, systemMem: systemMem, damagedBins: damagedBins)
        }
    }

    /// True when following `next` from `start` comes back to it within `limit` arenas, each a
    /// valid arena. This is what singles out the real main_arena among look-alikes.
    func closesChain(from start: GlibcArenaFields, limit: Int = 4096) -> Bool {
        var current = start
        for _ in 0..<limit {
            if current.next == start.address { return true }
            guard let next = arena(at: current.next) else { return false }
            current = next
        }
        return false
    }

    /// `main_arena`: the known address when the caller has it (from symbols), else a scan of
    /// libc's writable data (any writable file-backed data when no libc is mapped, as in a
    /// static executable) for a malloc_state whose `next` list closes on itself. When only a
    /// thread arena can be found (main_arena itself corrupt), that arena is returned.
    /// - Parameter searchAnonymous: also try the last resort (all anonymous writable memory);
    ///   false answers "has glibc malloc run at all?" at the cost of libc's data only.
    func findMainArena(knownAddress: UInt64?, searchAnonymous: Bool = true) -> (fields: GlibcArenaFields, method: String)? {
        if let knownAddress, let fields = arena(at: knownAddress) {
            return (fields, "main_arena symbol")
        }
        let writableData = regions.regions.filter { $0.label == .file && $0.isWritable }
        let libc = writableData.filter { region in
            guard let path = region.path else { return false }
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return name.hasPrefix("libc.so") || name.hasPrefix("libc-")
        }
        // Last resort (libc's data not labelled as such): any writable memory, thread heaps
        // (64 MiB-aligned, an arena right after their heap_info) first. Any arena found leads
        // through the `next` ring to main_arena, the one member not inside a heap.
        let anonymous = !searchAnonymous ? [] : regions.regions.filter { $0.label != .file && $0.isWritable }
            .sorted { ($0.start % GlibcLayout.heapMaxSize == 0 ? 0 : 1) < ($1.start % GlibcLayout.heapMaxSize == 0 ? 0 : 1) }
        for (candidates, method) in [(libc, "main_arena found by shape in libc data"),
                                     (writableData, "main_arena found by shape in writable data"),
                                     (anonymous, "main_arena found through the arena list in anonymous memory")] {
            for region in candidates {
                guard let fields = scanForArena(region) else { continue }
                if let main = mainArena(inRingOf: fields) { return (main, method) }
                return (fields, "thread arena found by shape; main_arena not reached through the arena list")
            }
        }
        return nil
    }

    /// True when `address` is a thread arena: right after the heap_info of its first heap.
    func isThreadArena(_ address: UInt64) -> Bool {
        let heap = address & ~(GlibcLayout.heapMaxSize - 1)
        return GlibcLayout.heapInfoSizes.contains(address &- heap) && memory.readU64(heap) == address
    }

    /// The member of `arena`'s `next` ring that is not a thread arena.
    func mainArena(inRingOf arena: GlibcArenaFields) -> GlibcArenaFields? {
        var current = arena
        for _ in 0..<4096 {
            if !isThreadArena(current.address) { return current }
            guard current.next != arena.address, let next = self.arena(at: current.next) else { return nil }
            current = next
        }
        return nil
    }

    private func scanForArena(_ region: Region) -> GlibcArenaFields? {
        let bytes = region.bytes
        let stateSize = Int(GlibcLayout.stateSize)
        guard bytes.count >= stateSize else { return nil }
        var offset = Int((8 - region.start % 8) % 8)
        while offset + stateSize <= bytes.count {
            // Cheap filter first: the unsorted bin is empty (points to itself) or holds aligned chunks,
            // and next is a non-null aligned pointer.
            let address = region.start + UInt64(offset)
            let unsorted = bytes.loadUnaligned(fromByteOffset: offset + Int(GlibcLayout.stateBins), as: UInt64.self)
            let next = bytes.loadUnaligned(fromByteOffset: offset + Int(GlibcLayout.stateNext), as: UInt64.self)
            if next != 0, next % 8 == 0,
               unsorted == GlibcLayout.bin(1, of: address) || (unsorted != 0 && unsorted % GlibcLayout.alignment == 0),
               Self.emptyBinCount(bytes, at: offset, address: address) >= 32,
               let fields = arena(at: address), closesChain(from: fields) || isThreadArena(address) {
                return fields
            }
            offset += 8
        }
        return nil
    }

    /// Bins of the would-be arena at `offset` that point at themselves, read in place: pointer-dense
    /// memory passes the first checks often, and this rejects it without copying anything.
    private static func emptyBinCount(_ bytes: UnsafeRawBufferPointer, at offset: Int, address: UInt64) -> Int {
        var empty = 0
        for index in 1..<GlibcLayout.binCount {
            let binOffset = offset + Int(GlibcLayout.stateBins) + (index - 1) * 16
            if bytes.loadUnaligned(fromByteOffset: binOffset, as: UInt64.self) == GlibcLayout.bin(index, of: address) {
                empty += 1
            }
        }
        return empty
    }

    /// All arenas in `next` order starting at main; stops with a warning at a link that does not
    /// lead to a valid arena.
    func arenaChain(from main: GlibcArenaFields, warnings: inout [String]) -> [GlibcArenaFields] {
        var chain = [main]
        var seen: Set<UInt64> = [main.address]
        var current = main
        while current.next != main.address {
            guard chain.count < 4096 else {
                warnings.append("arena list from \(hex(main.address)) is longer than 4096 arenas; stopped")
                break
            }
            guard !seen.contains(current.next) else {
                warnings.append("arena list loops at \(hex(current.next)) without returning to main_arena; stopped")
                break
            }
            guard let next = arena(at: current.next) else {
                warnings.append("arena \(hex(current.address)) links to \(hex(current.next)), which is not an arena; later arenas skipped")
                break
            }
            chain.append(next)
            seen.insert(next.address)
            current = next
        }
        return chain
    }

    /// The heaps of a non-main arena, lowest address first, found from the heap that holds top
    /// and its `prev` chain. sizeof(heap_info) (32, or 48 from glibc 2.35) is learned from the
    /// first heap, which the arena directly follows.
    func heaps(of arena: GlibcArenaFields, warnings: inout [String]) -> [GlibcHeapRange] {
        let mask = ~(GlibcLayout.heapMaxSize - 1)
        var heapAddress = arena.top & mask
        var found: [(start: UInt64, size: UInt64)] = []
        var seen = Set<UInt64>()
        while heapAddress != 0 {
            guard !seen.contains(heapAddress), found.count < 65536 else {
                warnings.append("heap list of arena \(hex(arena.address)) loops at \(hex(heapAddress)); stopped")
                break
            }
            seen.insert(heapAddress)
            guard let owner = memory.readU64(heapAddress &+ GlibcLayout.heapInfoArena),
                  let prev = memory.readU64(heapAddress &+ GlibcLayout.heapInfoPrev),
                  let size = memory.readU64(heapAddress &+ GlibcLayout.heapInfoSize) else {
                warnings.append("heap_info at \(hex(heapAddress)) of arena \(hex(arena.address)) is not in the core; its heaps are skipped")
                break
            }
            guard owner == arena.address, size >= GlibcLayout.minChunk, size <= GlibcLayout.heapMaxSize,
                  prev & ~mask == 0, heapAddress <= UInt64.max - GlibcLayout.heapMaxSize else {
                warnings.append("heap_info at \(hex(heapAddress)) does not belong to arena \(hex(arena.address)) (ar_ptr \(hex(owner)), size \(hex(size))); its heaps are skipped")
                break
            }
            found.append((heapAddress, size))
            heapAddress = prev
        }
        guard let firstHeap = found.last else { return [] }
        let headerSize = arena.address &- firstHeap.start
        guard GlibcLayout.heapInfoSizes.contains(headerSize) else {
            warnings.append("arena \(hex(arena.address)) is not right after its first heap_info at \(hex(firstHeap.start)); its heaps are skipped")
            return []
        }
        var ranges: [GlibcHeapRange] = []
        for (index, heap) in found.reversed().enumerated() {
            let headersEnd = index == 0 ? arena.address + GlibcLayout.stateSize : heap.start + headerSize
            let holdsTop = heap.start == arena.top & mask
            ranges.append(GlibcHeapRange(start: heap.start, end: heap.start + heap.size,
                                         firstChunk: GlibcLayout.alignedChunk(atOrAfter: headersEnd),
                                         walkedEnd: heap.start, holdsTop: holdsTop))
        }
        return ranges
    }

    /// Thread arenas found directly, each right after the heap_info of its first heap at the start
    /// of a 64 MiB-aligned region: what is left of the arena list when main_arena is broken.
    func threadArenasByHeapInfo() -> [GlibcArenaFields] {
        regions.regions.compactMap { region in
            guard region.isWritable, region.start % GlibcLayout.heapMaxSize == 0,
                  let owner = memory.readU64(region.start), isThreadArena(owner) else { return nil }
            return arena(at: owner)
        }
    }

    /// Without main_arena: the brk heap is the first anonymous region outside `owned` whose
    /// chunks, walked by size from its start, end exactly at its end; the last one is top.
    func brkHeapByWalking(outside owned: [Range<UInt64>]) -> (heap: GlibcHeapRange, top: UInt64)? {
        for region in regions.regions where region.label == .heap && region.isWritable && region.presentEnd == region.end {
            guard !owned.contains(where: { $0.overlaps(region.start..<region.end) }) else { continue }
            let first = GlibcLayout.alignedChunk(atOrAfter: region.start)
            guard let top = GlibcChunkWalk.topByWalking(bytes: region.bytes, base: region.start, first: first) else { continue }
            return (GlibcHeapRange(start: region.start, end: region.end, firstChunk: first, walkedEnd: region.start, holdsTop: true), top)
        }
        return nil
    }

    /// The main arena's brk heap: the heap region holding top, from its start.
    func mainHeap(of arena: GlibcArenaFields, warnings: inout [String]) -> GlibcHeapRange? {
        guard arena.hasHeap else { return nil }
        guard let region = regions.region(containing: arena.top), region.isWritable else {
            warnings.append("main_arena top chunk \(hex(arena.top)) is not in a writable region of the core; main heap skipped")
            return nil
        }
        if arena.flags & GlibcLayout.nonContiguousFlag != 0 {
            warnings.append("main_arena is non-contiguous; only the region holding top (\(hex(region.start))-\(hex(region.end))) is walked")
        }
        return GlibcHeapRange(start: region.start, end: region.end,
                              firstChunk: GlibcLayout.alignedChunk(atOrAfter: region.start),
                              walkedEnd: region.start, holdsTop: true)
    }
}
