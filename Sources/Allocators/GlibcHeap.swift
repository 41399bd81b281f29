import ELFCore
import Regions
import ScanKernels

/// glibc malloc (2.27 and later, 64-bit) read from a core without libc symbols.
public enum GlibcHeap {
    /// Walks every arena, heap and mmapped chunk. `knownMainArena` is `main_arena`'s address
    /// when symbols give it (see `mainArenaSymbol(in:)`); otherwise main_arena is found by its
    /// shape in libc's data. Never traps on a corrupt heap: what cannot be trusted is skipped
    /// with a warning.
    ///
    /// The table lists one `Allocation` per chunk the program got from malloc, free or used:
    /// address = chunk + 16 (the user pointer), usableSize = chunk size − 8 (− 16 for mmapped
    /// chunks, as malloc_usable_size), blockSize = chunk size, isUsed false for chunks in a
    /// tcache, fastbin or bin, and arena = index into `result.arenas` (mmapped chunks use the
    /// last name, "mmapped chunks"). Top chunks, heap headers, tcache structs and fenceposts are
    /// malloc's own and not listed; `managedRanges` covers the heaps, mmapped chunks and
    /// main_arena.
    public static func walk(core: CoreFile, regions: RegionMap, knownMainArena: UInt64? = nil) -> GlibcHeapResult {
        var walker = Walker(core: core, regions: regions)
        return walker.run(knownMainArena: knownMainArena)
    }
}

private struct Walker {
    let core: CoreFile
    let regions: RegionMap
    var memory: AddressSpace { core.addressSpace }
    var warnings: [String] = []

    init(core: CoreFile, regions: RegionMap) {
        self.core = core
        self.regions = regions
    }

    /// One address-ordered piece of work that produces allocations.
    private enum Job {
        case heap(arena: Int, heap: Int)
        case mmapped(chunk: UInt64, size: UInt64)
    }

    mutating func run(knownMainArena: UInt64?) -> GlibcHeapResult {
        let locator = GlibcArenaLocator(memory: memory, regions: regions)
        var method = "no main_arena found"
        var fields: [GlibcArenaFields] = []
        var hasMain = false
        if let (main, how) = locator.findMainArena(knownAddress: knownMainArena) {
            method = how
            if let knownMainArena, main.address != knownMainArena {
                warnings.append("main_arena symbol \(hex(knownMainArena)) does not hold an arena")
            }
            fields = locator.arenaChain(from: main, warnings: &warnings)
            if let mainIndex = fields.firstIndex(where: { !locator.isThreadArena($0.address) }) {
                fields = Array(fields[mainIndex...] + fields[..<mainIndex])
                hasMain = true
            }
        }
        if !hasMain {
            let known = Set(fields.map(\.address))
            fields += locator.threadArenasByHeapInfo().filter { !known.contains($0.address) }
        }
        var arenas = fields.enumerated().map { index, arena in
            let isMain = hasMain && index == 0
            return GlibcArena(address: arena.address, isMain: isMain, heaps: heaps(of: arena, isMain: isMain, locator: locator),
                       top: arena.top, topSize: 0, systemMem: arena.systemMem, measuredSystemBytes: 0,
                       fastbinChunks: 0, fastbinBytes: 0, binnedChunks: 0, binnedBytes: 0,
                       walkedFreeChunks: 0, walkedFreeBytes: 0, internalBytes: 0)
        }
        claimEachHeapOnce(&arenas)
        if !hasMain {
            // The brk heap without its arena: found by its chunks alone. Listed last (it has no
            // malloc_state among `fields`), as main_arena at address 0.
            let owned = arenas.flatMap { $0.heaps.map { $0.start..<($0.start + GlibcLayout.heapMaxSize) } }
            if let (heap, top) = locator.brkHeapByWalking(outside: owned) {
                arenas.append(GlibcArena(address: 0, isMain: true, heaps: [heap], top: top, topSize: 0, systemMem: 0,
                                         measuredSystemBytes: 0, fastbinChunks: 0, fastbinBytes: 0, binnedChunks: 0,
                                         binnedBytes: 0, walkedFreeChunks: 0, walkedFreeBytes: 0, internalBytes: 0))
                method += "; brk heap found by walking its chunks"
                warnings.append("main_arena not found: the brk heap \(hex(heap.start))-\(hex(heap.end)) was walked from its start; its fastbin chunks count as used")
            } else {
                warnings.append("no glibc main_arena or brk heap found (not a glibc malloc process, or libc data not in the core)")
            }
        }

        let mmapped = findMmappedChunks(arenas: arenas)
        var lists = GlibcFreeLists(memory: memory, heaps: arenas.flatMap { $0.heaps.map { ($0.start, $0.end) } })
        let firstChunks = Set(arenas.flatMap { $0.heaps.map(\.firstChunk) })
        let tcaches = lists.findTcaches(threads: core.threads, pointersMayBeMissing: core.threadPointersMayBeMissing,
                                       heapFirstChunks: firstChunks, warnings: &warnings)
        let safeLinking = decideSafeLinking(lists: lists, fields: fields, tcaches: tcaches)
        lists.protected = safeLinking ?? true
        // A tcache that opens its heap (the usual place) is skipped by the walk, so no
        // multi-million-entry table has to be compacted to take it out afterwards.
        let leadingTcaches = Dictionary(tcaches.filter { firstChunks.contains($0.chunk) }.map { ($0.chunk, $0.layout.chunkSize) },
                                        uniquingKeysWith: { first, _ in first })
        var allocations = walkChunks(arenas: &arenas, mmapped: mmapped, mmappedIndex: Int32(arenas.count),
                                     skipping: leadingTcaches)

        var cached: [UInt64] = []
        var binned: [UInt64] = []
        var free = GlibcFreeSummary()
        var cachedLists = CachedChunkLists()
        let tcacheSummaries = walkTcaches(tcaches, lists: lists, free: &free, cached: &cached, named: &cachedLists)
        walkArenaLists(fields, lists: lists, arenas: &arenas, free: &free, cached: &cached, binned: &binned, named: &cachedLists)
        markCachedChunksFree(cached, in: &allocations)
        reportFreeChunksInsideAllocations(cached + binned, allocations: allocations)
        removeTcacheStructs(tcaches.filter { leadingTcaches[$0.chunk] == nil }.map(\.address),
                            from: &allocations, arenas: &arenas)
        for arena in arenas where arena.topSize > 0 {
            free.topChunks += 1
            free.topBytes.addClamped(arena.topSize)
        }

        let mmappedBytes = mmapped.reduce(UInt64(0)) { $0.addingClamped($1.size) }
        let mallinfo = computeMallinfo(arenas: arenas, mmappedChunks: mmapped.count, mmappedBytes: mmappedBytes)
        var names = arenas.map { arena in
            arena.address == 0 ? "brk heap (main_arena not found)" : (arena.isMain ? "main_arena " : "arena ") + hex(arena.address)
        }
        names.append("mmapped chunks")
        // main_arena (in libc's data) is allocator state too: its top and bin pointers must not
        // count as references to the allocations next to those chunks.
        let managed = arenas.flatMap { $0.heaps.map { $0.start..<$0.end } }
            + mmapped.map { $0.chunk..<($0.chunk + $0.size) }
            + arenas.filter { $0.isMain && $0.address != 0 }.map { $0.address..<($0.address + GlibcLayout.stateSize) }
        let allocator = GlibcVersion.find(in: regions).map { "glibc \($0)" } ?? "glibc"
        var table = AllocationTable(allocator: allocator, method: method, arenas: names,
                                    allocations: allocations, warnings: WarningDigest.digest(warnings), managedRanges: managed)
        let tcachePlaces = tcaches.map { tcache in
            AllocatorPlaces.Place(range: tcache.chunk..<(tcache.chunk &+ tcache.layout.chunkSize),
                                  what: tcache.threadID.map { "tcache of thread \($0)" } ?? "a thread's tcache (thread unknown)")
        }
        let topPlaces = arenas.indices.filter { arenas[$0].topSize > 0 }.map { index in
            AllocatorPlaces.Place(range: arenas[index].top..<(arenas[index].top &+ arenas[index].topSize),
                                  what: "top chunk of \(names[index])")
        }
        table.places = AllocatorPlaces(places: tcachePlaces + topPlaces, listNames: cachedLists.names, chunks: cachedLists.chunks)
        return GlibcHeapResult(table: table, arenas: arenas, tcaches: tcacheSummaries, free: free,
                               mmappedChunks: mmapped.count, mmappedBytes: mmappedBytes,
                               safeLinking: safeLinking, mallinfo: mallinfo)
    }

    /// A heap two arenas claim (a damaged top pointing into another arena's heap) is walked
    /// once, by the arena whose claim is stronger: a thread arena's heap_info names its owner,
    /// while main_arena's heap is only the region its top lies in.
    private mutating func claimEachHeapOnce(_ arenas: inout [GlibcArena]) {
        var claimed: [Range<UInt64>] = []
        for index in arenas.indices.sorted(by: { !arenas[$0].isMain && arenas[$1].isMain }) {
            let address = arenas[index].address
            arenas[index].heaps.removeAll { heap in
                let range = heap.start..<max(heap.start, heap.end)
                guard let other = claimed.first(where: { $0.overlaps(range) }) else {
                    claimed.append(range)
                    return false
                }
                warnings.append("heap \(hex(heap.start))-\(hex(heap.end)) of arena \(hex(address)) overlaps the heap at \(hex(other.lowerBound)) another arena holds (a damaged top?); walked once, for that arena")
                return true
            }
        }
    }

    private mutating func heaps(of arena: GlibcArenaFields, isMain: Bool, locator: GlibcArenaLocator) -> [GlibcHeapRange] {
        guard arena.hasHeap else { return [] }
        if isMain { return locator.mainHeap(of: arena, warnings: &warnings).map { [$0] } ?? [] }
        return locator.heaps(of: arena, warnings: &warnings)
    }

    /// Each thread's tcache bins; their chunks are appended to `cached`.
    private mutating func walkTcaches(_ tcaches: [GlibcFoundTcache], lists: GlibcFreeLists,
                                      free: inout GlibcFreeSummary, cached: inout [UInt64],
                                      named: inout CachedChunkLists) -> [GlibcTcache] {
        tcaches.map { tcache in
            var summary = GlibcTcache(address: tcache.address, threadID: tcache.threadID, chunks: 0, bytes: 0)
            for (index, bin) in lists.tcacheBins(tcache).enumerated() where bin.count > 0 {
                let first = cached.count
                let tally = lists.walkSingleList(
                    head: bin.head, size: GlibcLayout.chunkSize(ofTcacheBin: index), userPointers: true,
                    expected: bin.count, name: "tcache \(hex(tcache.address)) bin \(index)",
                    chunks: &cached, warnings: &warnings)
                named.add(cached[first...], list: tcache.threadID.map { "thread \($0)'s tcache bin \(index)" }
                    ?? "tcache \(hex(tcache.address)) bin \(index)")
                summary.chunks.addClamped(tally.chunks)
                summary.bytes.addClamped(tally.bytes)
            }
            free.tcacheChunks.addClamped(summary.chunks)
            free.tcacheBytes.addClamped(summary.bytes)
            return summary
        }
    }

    /// Each arena's fastbins (chunks appended to `cached`) and regular bins, checked against
    /// the free chunks the heap walk saw.
    private mutating func walkArenaLists(_ fields: [GlibcArenaFields], lists: GlibcFreeLists, arenas: inout [GlibcArena],
                                         free: inout GlibcFreeSummary, cached: inout [UInt64], binned: inout [UInt64],
                                         named: inout CachedChunkLists) {
        for (index, arena) in fields.enumerated() where index < arenas.count {
            for (bin, head) in arena.fastbins.enumerated() where head != 0 {
                let first = cached.count
                let tally = lists.walkSingleList(
                    head: head, size: GlibcLayout.chunkSize(ofFastbin: bin), userPointers: false, expected: nil,
                    name: "fastbin \(bin) of arena \(hex(arena.address))", chunks: &cached, warnings: &warnings)
                named.add(cached[first...], list: "fastbin \(bin) of arena \(hex(arena.address))")
                arenas[index].fastbinChunks.addClamped(tally.chunks)
                arenas[index].fastbinBytes.addClamped(tally.bytes)
            }
            if !arena.damagedBins.isEmpty {
                warnings.append("arena \(hex(arena.address)): bins \(arena.damagedBins.map(String.init).joined(separator: ", ")) have damaged fd/bk links; their chunks are not counted as binned")
            }
            let (unsorted, small, large) = lists.walkBins(arena: arena.address, damaged: Set(arena.damagedBins),
                                                          members: &binned, warnings: &warnings)
            var binnedTotal = unsorted
            binnedTotal.add(small)
            binnedTotal.add(large)
            arenas[index].binnedChunks = binnedTotal.chunks
            arenas[index].binnedBytes = binnedTotal.bytes
            if arenas[index].binnedChunks != arenas[index].walkedFreeChunks || arenas[index].binnedBytes != arenas[index].walkedFreeBytes {
                warnings.append("arena \(hex(arena.address)): the heap walk found \(arenas[index].walkedFreeChunks) free chunks (\(arenas[index].walkedFreeBytes) bytes) but its bins hold \(arenas[index].binnedChunks) (\(arenas[index].binnedBytes) bytes)")
            }
            free.fastbinChunks.addClamped(arenas[index].fastbinChunks)
            free.fastbinBytes.addClamped(arenas[index].fastbinBytes)
            free.unsortedChunks.addClamped(unsorted.chunks)
            free.unsortedBytes.addClamped(unsorted.bytes)
            free.smallbinChunks.addClamped(small.chunks)
            free.smallbinBytes.addClamped(small.bytes)
            free.largebinChunks.addClamped(large.chunks)
            free.largebinBytes.addClamped(large.bytes)
        }
    }

    /// mmapped chunks at the start of every writable anonymous range outside the arenas' heaps.
    private func findMmappedChunks(arenas: [GlibcArena]) -> [(chunk: UInt64, size: UInt64)] {
        let pageSize = core.auxVector?.pageSize.flatMap { $0.nonzeroBitCount == 1 ? $0 : nil } ?? 4096
        // A non-main heap owns its whole HEAP_MAX_SIZE reservation; the brk heap its whole region.
        let owned = arenas.flatMap { arena in
            arena.heaps.map { heap in
                (heap.start, arena.isMain ? heap.end : max(heap.end, heap.start &+ GlibcLayout.heapMaxSize))
            }
        }.sorted { $0.0 < $1.0 }
        var found: [(chunk: UInt64, size: UInt64)] = []
        for region in regions.regions where region.label == .heap && region.isWritable {
            var pieceStart = region.start
            for range in owned where range.1 > region.start && range.0 < region.end {
                if range.0 > pieceStart {
                    found += chunks(in: region, from: pieceStart, to: range.0, pageSize: pageSize)
                }
                pieceStart = max(pieceStart, range.1)
            }
            if pieceStart < region.end {
                found += chunks(in: region, from: pieceStart, to: region.end, pageSize: pageSize)
            }
        }
        return found
    }

    private func chunks(in region: Region, from start: UInt64, to end: UInt64, pageSize: UInt64) -> [(chunk: UInt64, size: UInt64)] {
        guard start >= region.start, start < region.presentEnd else { return [] }
        let view = UnsafeRawBufferPointer(rebasing: region.bytes[Int(start - region.start)...])
        return GlibcChunkWalk.mmappedChunks(memory: view, base: start, limit: end, pageSize: pageSize)
    }

    /// Walks every heap and lists every mmapped chunk, in address order, into one array.
    /// `skipping`: first chunks (tcache_perthread_structs) and their sizes, counted as internal
    /// bytes, not listed.
    private mutating func walkChunks(arenas: inout [GlibcArena], mmapped: [(chunk: UInt64, size: UInt64)],
                                     mmappedIndex: Int32, skipping: [UInt64: UInt64]) -> AllocationList {
        var jobs: [(start: UInt64, job: Job)] = []
        var capacity = mmapped.count
        for (arenaIndex, arena) in arenas.enumerated() {
            for (heapIndex, heap) in arena.heaps.enumerated() {
                jobs.append((heap.start, .heap(arena: arenaIndex, heap: heapIndex)))
                // Sized by the bytes the core holds, never by the heap's end (a file value):
                // each listed chunk takes at least MINSIZE of them.
                let presentEnd = memory.segment(containing: heap.start).map { min($0.presentEnd, heap.end) } ?? heap.start
                if presentEnd > heap.firstChunk { capacity += Int((presentEnd - heap.firstChunk) / GlibcLayout.minChunk) + 1 }
            }
        }
        for chunk in mmapped { jobs.append((chunk.chunk, .mmapped(chunk: chunk.chunk, size: chunk.size))) }
        jobs.sort { $0.start < $1.start }

        var localWarnings: [String] = []
        let walkedBytes = jobs.reduce(UInt64(0)) { total, job in
            guard case .heap(let arenaIndex, let heapIndex) = job.job else { return total }
            let heap = arenas[arenaIndex].heaps[heapIndex]
            let presentEnd = memory.segment(containing: heap.start).map { min($0.presentEnd, heap.end) } ?? heap.start
            return total &+ (presentEnd > heap.start ? presentEnd - heap.start : 0)
        }
        let progress = ProgressLine(total: walkedBytes, label: "walking glibc heaps")
        defer { progress.finish() }
        let allocations = AllocationList(unsafeUninitializedCapacity: capacity) { buffer, count in
            guard let output = buffer.baseAddress else { return }
            for (_, job) in jobs {
                switch job {
                case .mmapped(let chunk, let size):
                    (output + count).initialize(to: Allocation(
                        address: chunk + GlibcLayout.chunkHeader, usableSize: size - GlibcLayout.chunkHeader,
                        blockSize: size, isUsed: true, arena: mmappedIndex))
                    count += 1
                case .heap(let arenaIndex, let heapIndex):
                    let heap = arenas[arenaIndex].heaps[heapIndex]
                    let top = heap.holdsTop ? arenas[arenaIndex].top : nil
                    guard let segment = memory.segment(containing: heap.start), heap.start < segment.presentEnd,
                          let view = segment.view(at: heap.start, count: Int(segment.presentEnd - heap.start)) else {
                        localWarnings.append("heap \(hex(heap.start)) of arena \(hex(arenas[arenaIndex].address)) is not in the core; skipped")
                        continue
                    }
                    let skipped = skipping[heap.firstChunk] ?? 0
                    let outcome = GlibcChunkWalk.walk(bytes: view, base: heap.start, first: heap.firstChunk + skipped, top: top,
                                                      limit: heap.end, arena: Int32(arenaIndex),
                                                      output: output, count: &count, progress: progress)
                    for skip in outcome.skipped {
                        localWarnings.append(skip.problem + "; \(skip.to - skip.from) bytes up to \(hex(skip.to)) skipped, where a consistent chain of chunks leads to top")
                    }
                    if let hidden = outcome.hidden {
                        localWarnings.append("chunk \(hex(hidden.chunk)) claims \(hidden.claimedSize) bytes, exactly to top, but holds a consistent chain of \(hidden.chainChunks) chunks from \(hex(hidden.chainStart)); its size field is taken as damaged (\(hidden.chainStart - hidden.chunk) bytes) and the chain is listed")
                    }
                    if let problem = outcome.problem {
                        localWarnings.append(problem + "; rest of this heap skipped")
                    } else if heap.holdsTop && outcome.topSize == nil {
                        localWarnings.append("heap \(hex(heap.start)) ended at \(hex(outcome.end)) before reaching top \(hex(top ?? 0))")
                    }
                    arenas[arenaIndex].heaps[heapIndex].walkedEnd = outcome.end
                    if let topSize = outcome.topSize { arenas[arenaIndex].topSize = topSize }
                    arenas[arenaIndex].walkedFreeChunks += outcome.freeChunks
                    arenas[arenaIndex].walkedFreeBytes += outcome.freeBytes
                    arenas[arenaIndex].internalBytes += (heap.firstChunk - heap.start) + skipped + outcome.fencepostBytes
                    if !heap.holdsTop && outcome.problem == nil && outcome.end <= heap.end {
                        // The zero-size header that ends a heap glibc moved on from, and any slack after it.
                        arenas[arenaIndex].internalBytes += heap.end - outcome.end
                    }
                    arenas[arenaIndex].measuredSystemBytes += heap.holdsTop && outcome.topSize != nil
                        ? outcome.end - heap.start : heap.end - heap.start
                }
            }
        }
        warnings += localWarnings
        for arena in arenas where arena.address != 0 && !arena.heaps.isEmpty && arena.measuredSystemBytes != arena.systemMem {
            warnings.append("arena \(hex(arena.address)): heaps span \(arena.measuredSystemBytes) bytes but system_mem says \(arena.systemMem)")
        }
        return allocations
    }

    /// Safe-linking on or off, by majority of the list heads that show it.
    private func decideSafeLinking(lists: GlibcFreeLists, fields: [GlibcArenaFields], tcaches: [GlibcFoundTcache]) -> Bool? {
        var votes = (on: 0, off: 0)
        func count(_ vote: Bool?) {
            switch vote {
            case true?: votes.on += 1
            case false?: votes.off += 1
            case nil: break
            }
        }
        for tcache in tcaches {
            for (index, bin) in lists.tcacheBins(tcache).enumerated() where bin.count > 0 {
                let size = GlibcLayout.chunkSize(ofTcacheBin: index)
                guard lists.validChunk(bin.head &- GlibcLayout.chunkHeader) == size,
                      let stored = memory.readU64(bin.head) else { continue }
                count(lists.protectionVote(stored: stored, at: bin.head, size: size, userPointers: true))
            }
        }
        for arena in fields {
            for (index, head) in arena.fastbins.enumerated() where head != 0 {
                let size = GlibcLayout.chunkSize(ofFastbin: index)
                let position = head &+ GlibcLayout.chunkHeader
                guard lists.validChunk(head) == size, let stored = memory.readU64(position) else { continue }
                count(lists.protectionVote(stored: stored, at: position, size: size, userPointers: false))
            }
        }
        if votes.on == 0 && votes.off == 0 { return nil }
        return votes.on >= votes.off
    }

    /// A free-list chunk inside another chunk the walk listed means that chunk's size field
    /// covers memory it does not own (a damaged size that still lands on a chunk boundary):
    /// said once per covering chunk, with how much it covers.
    private mutating func reportFreeChunksInsideAllocations(_ members: [UInt64], allocations: AllocationList) {
        var covered: [Int: Int] = [:]
        for chunk in members {
            // Its size field, not prev_size, which belongs to the chunk before it.
            guard let index = allocations.index(containing: chunk &+ GlibcLayout.sizeFieldOffset, start: \.address, end: \.end),
                  allocations[index].address != chunk &+ GlibcLayout.chunkHeader else { continue }
            covered[index, default: 0] += 1
        }
        for (index, count) in covered.sorted(by: { $0.key < $1.key }) {
            let allocation = allocations[index]
            warnings.append("chunk \(hex(allocation.address - GlibcLayout.chunkHeader)) (\(allocation.blockSize) bytes) covers \(count) chunks of the free lists: its size field is probably damaged and hides the chunks in its \(allocation.blockSize) bytes")
        }
    }

    /// Chunks in tcache bins and fastbins look in use to the heap walk (glibc keeps their
    /// neighbour's PREV_INUSE set); the lists say they are free.
    private mutating func markCachedChunksFree(_ chunks: [UInt64], in allocations: inout AllocationList) {
        for chunk in chunks {
            let address = chunk + GlibcLayout.chunkHeader
            guard let index = exactIndex(of: address, in: allocations) else {
                warnings.append("free-list chunk \(hex(chunk)) is not a chunk the heap walk found")
                continue
            }
            if !allocations[index].isUsed {
                warnings.append("chunk \(hex(chunk)) is in a tcache or fastbin and also free in the heap walk (double free?)")
            }
            allocations[index].isUsed = false
        }
    }

    /// tcache_perthread_structs are malloc's own: counted as internal bytes of their arena.
    private func removeTcacheStructs(_ structs: [UInt64], from allocations: inout AllocationList, arenas: inout [GlibcArena]) {
        var drop: [Int] = []
        for address in structs {
            guard let index = exactIndex(of: address, in: allocations) else { continue }
            let arena = Int(allocations[index].arena)
            if arena >= 0 && arena < arenas.count { arenas[arena].internalBytes += allocations[index].blockSize }
            drop.append(index)
        }
        guard !drop.isEmpty else { return }
        // Compacted in place: a copy of a multi-million-entry table would double peak memory.
        let dropped = Array(Set(drop)).sorted()
        var kept = dropped[0]
        var next = 0
        allocations.withUnsafeMutableBufferPointer { buffer in
            for index in dropped[0]..<buffer.count {
                if next < dropped.count && dropped[next] == index {
                    next += 1
                    continue
                }
                buffer[kept] = buffer[index]
                kept += 1
            }
        }
        allocations.removeLast(allocations.count - kept)
    }

    private func exactIndex(of address: UInt64, in allocations: AllocationList) -> Int? {
        var low = 0
        var high = allocations.count
        while low < high {
            let middle = (low + high) / 2
            if allocations[middle].address < address { low = middle + 1 } else { high = middle }
        }
        return low < allocations.count && allocations[low].address == address ? low : nil
    }

    /// mallinfo2's arithmetic (malloc.c int_mallinfo) over what the walk measured: free bytes
    /// are top + fastbins + regular bins; tcache chunks count as used, as glibc counts them.
    private func computeMallinfo(arenas: [GlibcArena], mmappedChunks: Int, mmappedBytes: UInt64) -> GlibcMallinfo {
        var info = GlibcMallinfo(arena: 0, ordblks: 0, smblks: 0, hblks: UInt64(mmappedChunks), hblkhd: mmappedBytes,
                                 fsmblks: 0, uordblks: 0, fordblks: 0, keepcost: 0)
        for arena in arenas {
            let available = arena.topSize.addingClamped(arena.fastbinBytes).addingClamped(arena.binnedBytes)
            info.arena.addClamped(arena.measuredSystemBytes)
            info.ordblks.addClamped(1 &+ UInt64(clamping: arena.binnedChunks))
            info.smblks.addClamped(UInt64(clamping: arena.fastbinChunks))
            info.fsmblks.addClamped(arena.fastbinBytes)
            info.fordblks.addClamped(available)
            // Lists holding more than the heaps (damage the walk already warned about) leave 0 used.
            info.uordblks.addClamped(arena.measuredSystemBytes > available ? arena.measuredSystemBytes - available : 0)
            if arena.isMain { info.keepcost = arena.topSize }
        }
        return info
    }
}

/// The free lists the walk met and the chunks each holds, for `AllocatorPlaces`.
struct CachedChunkLists {
    private(set) var names: [String] = []
    private(set) var chunks: [(address: UInt64, list: UInt32)] = []

    mutating func add(_ listChunks: ArraySlice<UInt64>, list: String) {
        guard !listChunks.isEmpty else { return }
        let number = UInt32(names.count)
        names.append(list)
        for chunk in listChunks { chunks.append((chunk &+ GlibcLayout.chunkHeader, number)) }
    }
}
