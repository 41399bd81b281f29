import Allocators
import TestFixtures

/// The synthetic brk heap filled the way a running program leaves it: a tcache_perthread_struct
/// first, then for each of the three smallest sizes two used chunks, two in a tcache bin and two
/// in a fastbin (safe-linked), one free chunk in the unsorted bin, a used chunk after it, and top.
/// Every list kind the walker follows is present, so each can be damaged on its own.
struct RichSyntheticGlibcHeap {
    typealias Heap = SyntheticGlibcHeap
    static let tcache = Heap.heap + 16
    static let firstChunk = Heap.heap + 0x290
    static let tls: UInt64 = 0x7f20_0000_0000

    enum Role: Equatable { case used, tcache(Int), fastbin(Int), unsorted }

    var heap = Heap()
    private(set) var chunks: [(address: UInt64, size: UInt64, role: Role)] = []
    let top: UInt64

    static func mangled(_ pointer: UInt64, storedAt position: UInt64) -> UInt64 { (position >> 12) ^ pointer }

    init() {
        heap.words = [UInt64](repeating: 0, count: heap.words.count)
        var cursor = Self.firstChunk
        for bin in 0..<3 {
            let size = 0x20 + 0x10 * UInt64(bin)
            for role in [Role.used, .tcache(bin), .fastbin(bin), .used, .tcache(bin), .fastbin(bin)] {
                chunks.append((cursor, size, role))
                cursor += size
            }
        }
        chunks.append((cursor, 0x100, .unsorted))
        cursor += 0x100
        chunks.append((cursor, 0x20, .used))
        cursor += 0x20
        top = cursor

        heap.setSize(Heap.heap, 0x290 | 1)
        for (address, size, _) in chunks {
            let previousFree = chunks.first { $0.address + $0.size == address }?.role == .unsorted
            heap.setSize(address, size | (previousFree ? 0 : 1))
            if previousFree { heap.set(address, 0x100) }
        }
        heap.setSize(top, (Heap.heapSize - (top - Heap.heap)) | 1)
        for bin in 0..<3 {
            let cached = chunks.filter { $0.role == .tcache(bin) }.map(\.address)
            heap.set(Self.tcache + 128 + UInt64(bin) * 8, link(cached, userPointers: true))
            heap.fastbins[bin] = link(chunks.filter { $0.role == .fastbin(bin) }.map(\.address), userPointers: false)
        }
        // counts[0..2] (uint16) share the struct's first word.
        let counts = (0..<3).map { bin in UInt64(chunks.filter { $0.role == .tcache(bin) }.count) << (16 * UInt64(bin)) }
        heap.set(Self.tcache, counts.reduce(0, |))
        let unsorted = chunks.first { $0.role == .unsorted }!.address
        let bin1 = Heap.arena + 112 - 16
        heap.set(unsorted + 16, bin1)
        heap.set(unsorted + 24, bin1)
        heap.arenaOverrides[12] = top
        heap.arenaOverrides[14] = unsorted
        heap.arenaOverrides[15] = unsorted
        var tlsWords = [UInt64](repeating: 0, count: 512)
        tlsWords[500] = Self.tcache
        heap.extraSegments = [.init(address: Self.tls, contents: words64(tlsWords))]
        heap.threads = [.init(tid: 77, stackPointer: Self.tls + 0x100, fsBase: Self.tls + 0x1000)]
    }

    /// Links `members` into a safe-linked singly linked list (tcache: links to user memory)
    /// and returns its head.
    private mutating func link(_ members: [UInt64], userPointers: Bool) -> UInt64 {
        let offset: UInt64 = userPointers ? 16 : 0
        for (index, chunk) in members.enumerated() {
            let next = index + 1 < members.count ? members[index + 1] + offset : 0
            heap.set(chunk + 16, Self.mangled(next, storedAt: chunk + 16))
        }
        return members.first.map { $0 + offset } ?? 0
    }

    func members(_ role: Role) -> [UInt64] { chunks.filter { $0.role == role }.map(\.address) }

    /// Per-list counts the tests compare between the intact and the damaged heap.
    struct Counts: Equatable {
        var allocations: Int
        var used: Int
        var tcache: Int
        var fastbin: Int
        var unsorted: Int
    }

    static func counts(_ result: GlibcHeapResult) -> Counts {
        Counts(allocations: result.table.allocations.count, used: result.table.allocations.filter(\.isUsed).count,
               tcache: result.free.tcacheChunks, fastbin: result.free.fastbinChunks, unsorted: result.free.unsortedChunks)
    }
}
