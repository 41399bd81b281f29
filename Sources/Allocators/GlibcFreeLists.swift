import ELFCore

/// Counts of one kind of free list, plus the chunks it holds.
struct GlibcListTally {
    var chunks = 0
    var bytes: UInt64 = 0

    mutating func add(_ other: GlibcListTally) {
        chunks.addClamped(other.chunks)
        bytes.addClamped(other.bytes)
    }
}

/// Walks glibc's free lists (tcache bins, fastbins, regular bins) in the core. Every link is
/// checked (alignment, inside a heap of the arena, chunk size matching its bin) before it is
/// followed, and every walk is capped, so a corrupt or cyclic list stops with a warning.
struct GlibcFreeLists {
    let memory: AddressSpace
    /// Arena heap ranges, sorted by start.
    let heaps: [(start: UInt64, end: UInt64)]
    /// True when links are safe-linking protected (glibc ≥ 2.32).
    var protected = true

    /// No list can hold more distinct chunks than fit in the heaps, so a longer walk is a cycle.
    let maxListSteps: Int

    init(memory: AddressSpace, heaps: [(start: UInt64, end: UInt64)]) {
        self.memory = memory
        self.heaps = heaps.sorted { $0.start < $1.start }
        let heapBytes = heaps.reduce(UInt64(0)) { $0 &+ ($1.end &- $1.start) }
        maxListSteps = Int(min(heapBytes / GlibcLayout.minChunk + 1, 1 << 26))
    }

    /// True when `[chunk, chunk + 16)` lies inside one arena heap.
    func inHeaps(_ chunk: UInt64) -> Bool {
        guard let heap = heap(containing: chunk) else { return false }
        return heap.end - chunk >= GlibcLayout.chunkHeader
    }

    /// The arena heap holding the byte at `address`.
    func heap(containing address: UInt64) -> (start: UInt64, end: UInt64)? {
        var low = 0
        var high = heaps.count
        while low < high {
            let middle = (low + high) / 2
            if heaps[middle].start <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let heap = heaps[low - 1]
        return address >= heap.start && address < heap.end ? heap : nil
    }

    /// Chunk size of the chunk at `chunk` when it is a plausible free-list member.
    func validChunk(_ chunk: UInt64) -> UInt64? {
        guard chunk % GlibcLayout.alignment == 0, inHeaps(chunk),
              let field = memory.readU64(chunk &+ GlibcLayout.sizeFieldOffset) else { return nil }
        return field & ~GlibcLayout.flagBits
    }

    // MARK: safe-linking

    /// One vote on whether links are mangled: the link stored at `position` in a list whose
    /// members are chunks of `size` (`userPointers`: links point 16 bytes into the chunk).
    func protectionVote(stored: UInt64, at position: UInt64, size: UInt64, userPointers: Bool) -> Bool? {
        if stored == 0 { return false }
        if stored == position >> 12 { return true }
        let offset: UInt64 = userPointers ? GlibcLayout.chunkHeader : 0
        let revealed = GlibcLayout.reveal(stored, at: position)
        if validChunk(revealed &- offset) == size { return true }
        if validChunk(stored &- offset) == size { return false }
        return nil
    }

    // MARK: single-linked lists

    /// Follows a tcache bin (links point at user memory) or fastbin (links point at chunks)
    /// from `head`, appending member chunk addresses. A tcache bin's `expected` count is
    /// believed only as far as the list holds chunks; a list that comes back to a chunk it
    /// passed stops there with one warning, its distinct chunks counted once.
    func walkSingleList(head: UInt64, size: UInt64, userPointers: Bool, expected: Int?, name: String,
                        chunks: inout [UInt64], warnings: inout [String]) -> GlibcListTally {
        let offset: UInt64 = userPointers ? GlibcLayout.chunkHeader : 0
        let start = chunks.count
        var link = head
        var cycle = CycleDetector()
        let cap = min(expected ?? maxListSteps, maxListSteps)
        func tally() -> GlibcListTally {
            GlibcListTally(chunks: chunks.count - start, bytes: UInt64(chunks.count - start) &* size)
        }
        while link != 0 {
            let chunk = link &- offset
            if cycle.see(chunk) {
                let distinct = distinctPrefixLength(chunks[start...])
                let repeated = start + distinct < chunks.count ? chunks[start + distinct] : chunk
                chunks.removeLast(chunks.count - start - distinct)
                warnings.append("\(name) is a cycle: it comes back to chunk \(hex(repeated)) after \(distinct) chunks; stopped at the first repeat, \(distinct) chunks (\(UInt64(distinct) &* size) bytes) counted")
                return tally()
            }
            guard chunks.count - start < cap else {
                if let expected, expected <= maxListSteps {
                    warnings.append("\(name) holds more chunks than its count \(expected); stopped at \(hex(link))")
                } else {
                    warnings.append("\(name) is longer than the \(cap) chunks its heaps can hold; stopped at \(hex(link))")
                }
                return tally()
            }
            guard validChunk(chunk) == size else {
                warnings.append("\(name) links to \(hex(link)), which is not a free chunk of \(size) bytes in the arena's heaps; list walk stopped")
                return tally()
            }
            chunks.append(chunk)
            let position = chunk &+ GlibcLayout.chunkHeader
            guard let stored = memory.readU64(position) else {
                warnings.append("\(name): link of chunk \(hex(chunk)) is not in the core; list walk stopped")
                return tally()
            }
            link = protected ? GlibcLayout.reveal(stored, at: position) : stored
        }
        if let expected, chunks.count - start != expected {
            warnings.append("\(name) ends after \(chunks.count - start) chunks but its count says \(expected)")
        }
        return tally()
    }

    // MARK: regular bins

    /// Walks the unsorted, small and large bins of an arena through their `bk` links (bins are
    /// not mangled), except the `damaged` bins whose own links are broken. Every member must be
    /// a chunk lying wholly inside a heap whose `fd` points back; a bin that comes back to a
    /// member stops there. Returns (unsorted, small, large) tallies and appends each member
    /// chunk's address to `members`.
    func walkBins(arena: UInt64, damaged: Set<Int> = [], members: inout [UInt64],
                  warnings: inout [String]) -> (GlibcListTally, GlibcListTally, GlibcListTally) {
        var unsorted = GlibcListTally()
        var small = GlibcListTally()
        var large = GlibcListTally()
        var steps = 0
        for index in 1..<GlibcLayout.binCount where !damaged.contains(index) {
            let bin = GlibcLayout.bin(index, of: arena)
            var tally = GlibcListTally()
            var link = memory.readU64(bin &+ 24) ?? bin
            var previous = bin
            var cycle = CycleDetector()
            while link != bin {
                steps += 1
                guard steps <= maxListSteps else {
                    warnings.append("bins of arena \(hex(arena)) hold more than the \(maxListSteps) chunks its heaps can hold; stopped in bin \(index)")
                    link = bin
                    break
                }
                guard !cycle.see(link) else {
                    warnings.append("bin \(index) of arena \(hex(arena)) is a cycle: it comes back to chunk \(hex(link)) after \(tally.chunks) chunks; stopped at the first repeat")
                    break
                }
                guard let size = validChunk(link), size >= GlibcLayout.minChunk, fitsInHeap(link, size: size),
                      memory.readU64(link &+ 16) == previous else {
                    warnings.append("bin \(index) of arena \(hex(arena)) links to \(hex(link)), which is not a free chunk pointing back; bin walk stopped after \(tally.chunks) chunks (\(tally.bytes) bytes)")
                    break
                }
                tally.chunks += 1
                tally.bytes &+= size
                members.append(link)
                previous = link
                link = memory.readU64(link &+ 24) ?? bin
            }
            switch index {
            case 1: unsorted.add(tally)
            case 2..<64: small.add(tally)
            default: large.add(tally)
            }
        }
        return (unsorted, small, large)
    }

    /// True when the chunk of `size` bytes at `chunk` ends inside the heap it starts in; a
    /// damaged size field (up to 2^64) fails this, so sums of sizes stay below the heaps' bytes.
    func fitsInHeap(_ chunk: UInt64, size: UInt64) -> Bool {
        guard let heap = heap(containing: chunk) else { return false }
        return size <= heap.end - chunk
    }

    // MARK: tcache

    /// tcache_perthread_structs that threads' TLS points to: a word below the thread pointer
    /// (static TLS, where libc's `tcache` variable lives) that points at the user memory of a
    /// chunk of a tcache struct's size in an arena heap, whose counts and entries agree. A
    /// program's own TLS pointer to a zeroed buffer of that size would look like an empty tcache,
    /// so an empty one is only accepted as the first chunk of a heap, where a thread's first
    /// malloc puts its tcache.
    func findTcaches(threads: [ThreadState], pointersMayBeMissing: Bool, heapFirstChunks: Set<UInt64>,
                     warnings: inout [String]) -> [GlibcFoundTcache] {
        var found: [GlibcFoundTcache] = []
        var seen = Set<UInt64>()
        for thread in threads {
            guard let pointer = thread.threadPointer, pointer > GlibcLayout.tlsSearchBytes else { continue }
            // The static TLS block may begin less than the search window below the thread
            // pointer (its mapping starts there): search what the core holds of the window.
            var low = pointer - GlibcLayout.tlsSearchBytes
            if let segment = memory.segment(containing: pointer - 8), segment.start > low { low = segment.start }
            guard let tls = memory.read(low, count: Int(pointer - low)) else {
                warnings.append("thread \(thread.tid): its TLS below \(hex(pointer)) is not in the core; chunks in its tcache count as used")
                continue
            }
            search: for index in stride(from: tls.count - 8, through: 0, by: -8) {
                let word = tls.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index, as: UInt64.self) }
                guard word % GlibcLayout.alignment == 0, word > GlibcLayout.chunkHeader, !seen.contains(word) else { continue }
                let chunk = word - GlibcLayout.chunkHeader
                guard let size = validChunk(chunk) else { continue }
                for layout in GlibcLayout.tcacheLayouts where layout.chunkSize == size {
                    guard let holdsEntries = tcacheShape(word, layout: layout),
                          holdsEntries || heapFirstChunks.contains(chunk) else { continue }
                    seen.insert(word)
                    found.append(GlibcFoundTcache(address: word, threadID: thread.tid, layout: layout))
                    break search
                }
            }
        }
        if pointersMayBeMissing {
            found += tcachesOpeningHeaps(heapFirstChunks, except: seen, warnings: &warnings)
        }
        return found
    }

    /// Without thread pointers (a core cut short loses gdb's thread notes, written last) the
    /// tcaches are found where a thread's first malloc puts them: as the first chunk of a heap,
    /// shape-checked. A tcache elsewhere (a thread whose arena another thread had opened)
    /// cannot be told from a program's allocation of the same size, and the warning says so.
    private func tcachesOpeningHeaps(_ firstChunks: Set<UInt64>, except seen: Set<UInt64>,
                                     warnings: inout [String]) -> [GlibcFoundTcache] {
        var found: [GlibcFoundTcache] = []
        for chunk in firstChunks.sorted() {
            let address = chunk + GlibcLayout.chunkHeader
            guard !seen.contains(address), let size = validChunk(chunk),
                  let layout = GlibcLayout.tcacheLayouts.first(where: { $0.chunkSize == size && tcacheShape(address, layout: $0) != nil })
            else { continue }
            found.append(GlibcFoundTcache(address: address, threadID: nil, layout: layout))
        }
        guard !firstChunks.isEmpty else { return found }
        warnings.append("no thread pointers in the core for some threads (thread notes missing, e.g. a core cut short): "
            + "\(found.count) more tcaches found at the start of \(firstChunks.count) heaps; a tcache elsewhere in a heap "
            + "(a thread sharing another thread's arena) is not known, and its chunks count as used")
        return found
    }

    /// Whether the struct at `address` holds any entry, or nil when it is no tcache: counts[i]
    /// must be 0 exactly when entries[i] is null, and every entry an aligned pointer into the heaps.
    func tcacheShape(_ address: UInt64, layout: GlibcTcacheLayout) -> Bool? {
        guard let bytes = memory.read(address, count: layout.structSize) else { return nil }
        return bytes.withUnsafeBytes { raw -> Bool? in
            var holdsEntries = false
            for index in 0..<GlibcLayout.tcacheBins {
                let count = layout.countWidth == 2
                    ? Int(raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)) : Int(raw[index])
                let entry = raw.loadUnaligned(fromByteOffset: layout.entriesOffset + index * 8, as: UInt64.self)
                guard (count == 0) == (entry == 0) else { return nil }
                if entry != 0 {
                    guard entry % GlibcLayout.alignment == 0, inHeaps(entry - GlibcLayout.chunkHeader) else { return nil }
                    holdsEntries = true
                }
            }
            return holdsEntries
        }
    }

    /// The (count, head) of each tcache bin.
    func tcacheBins(_ tcache: GlibcFoundTcache) -> [(count: Int, head: UInt64)] {
        let layout = tcache.layout
        return (0..<GlibcLayout.tcacheBins).map { index in
            let countAddress = tcache.address + UInt64(index * layout.countWidth)
            let count = layout.countWidth == 2 ? memory.readU16(countAddress).map(Int.init) : memory.readU8(countAddress).map(Int.init)
            let head = memory.readU64(tcache.address + UInt64(layout.entriesOffset + index * 8)) ?? 0
            return (count ?? 0, head)
        }
    }
}

/// A thread's tcache_perthread_struct (its user address) and the layout it was read with.
struct GlibcFoundTcache {
    var address: UInt64
    /// Nil when the tcache was found without a thread pointer.
    var threadID: Int32?
    var layout: GlibcTcacheLayout
    var chunk: UInt64 { address - GlibcLayout.chunkHeader }
}
