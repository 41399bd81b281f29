import Allocators
import ELFCore
import Foundation
import Regions
import TestFixtures

/// A hand-built glibc heap in a synthetic core: main_arena in a libc data mapping and a brk heap
/// of three used chunks (0x20, 0x30, 0x40 bytes) and top; optionally a thread arena with its own
/// 64 MiB-aligned heap holding one 0x30-byte chunk. Fields are public to break one at a time.
struct SyntheticGlibcHeap {
    static let arena: UInt64 = 0x7f00_0000_0060
    static let libcData: UInt64 = 0x7f00_0000_0000
    static let heap: UInt64 = 0x5555_0000_0000
    static let heapSize: UInt64 = 0x1000
    static let chunks: [UInt64] = [heap, heap + 0x20, heap + 0x50]
    static let top: UInt64 = heap + 0x90
    /// The thread heap: heap_info (48 bytes), its malloc_state, one chunk, top.
    static let threadHeap: UInt64 = 0x7f10_0000_0000
    static let threadHeapSize: UInt64 = 0x2000
    static let threadArena: UInt64 = threadHeap + 48
    static let threadChunk: UInt64 = threadHeap + 2256
    static let threadTop: UInt64 = threadChunk + 0x30

    var words = [UInt64](repeating: 0, count: Int(heapSize / 8))
    var fastbins = [UInt64](repeating: 0, count: 10)
    /// main_arena words to overwrite after it is built (word index → value).
    var arenaOverrides: [Int: UInt64] = [:]
    var withThreadArena = false
    /// The thread heap's heap_info.prev and the thread arena's `next` (default: none, main_arena).
    var threadHeapPrev: UInt64 = 0
    var threadArenaNext = SyntheticGlibcHeap.arena
    /// p_memsz of the brk heap's segment, when it should claim more than the bytes it holds.
    var heapMemorySize: UInt64?
    /// False leaves libc's data without its NT_FILE entry, so it reads as anonymous memory.
    var libcMapped = true
    /// More memory (e.g. a thread's TLS) and threads.
    var extraSegments: [SyntheticCore.Segment] = []
    /// One thread by default (no TLS: fs_base 0), so the walker sees a process, not an empty one.
    var threads: [SyntheticCore.Thread] = [.init(tid: 1, stackPointer: 0x7ffd_0000_0000)]

    init() {
        setSize(Self.chunks[0], 0x21)
        setSize(Self.chunks[1], 0x31)
        setSize(Self.chunks[2], 0x41)
        setSize(Self.top, (Self.heapSize - (Self.top - Self.heap)) | 1)
    }

    mutating func setSize(_ chunk: UInt64, _ field: UInt64) { set(chunk + 8, field) }
    mutating func set(_ address: UInt64, _ value: UInt64) { words[Int((address - Self.heap) / 8)] = value }

    /// A malloc_state with every bin empty.
    static func arenaState(at address: UInt64, top: UInt64, next: UInt64, systemMem: UInt64,
                           fastbins: [UInt64] = [], flags: UInt64 = 0) -> [UInt64] {
        var state = [UInt64](repeating: 0, count: 2200 / 8)
        state[0] = flags << 32
        for (index, head) in fastbins.enumerated() { state[2 + index] = head }
        state[12] = top
        for bin in 1..<128 {
            let selfAddress = address + 112 + UInt64(bin - 1) * 16 - 16
            state[14 + (bin - 1) * 2] = selfAddress
            state[15 + (bin - 1) * 2] = selfAddress
        }
        state[270] = next
        state[273] = systemMem
        state[274] = systemMem
        return state
    }

    func core() throws -> String {
        var state = Self.arenaState(at: Self.arena, top: Self.top, next: withThreadArena ? Self.threadArena : Self.arena,
                                    systemMem: Self.heapSize, fastbins: fastbins)
        for (index, value) in arenaOverrides { state[index] = value }
        var data = [UInt8](repeating: 0, count: Int(Self.arena - Self.libcData)) + words64(state)
        data += [UInt8](repeating: 0, count: 0x1000 - data.count)
        var synthetic = SyntheticCore()
        synthetic.segments = [
            .init(address: Self.heap, contents: words64(words), memorySize: heapMemorySize),
            .init(address: Self.libcData, contents: data),
        ]
        if withThreadArena {
            let heapInfo: [UInt64] = [Self.threadArena, threadHeapPrev, Self.threadHeapSize, Self.threadHeapSize, 4096, 0]
            let threadState = Self.arenaState(at: Self.threadArena, top: Self.threadTop, next: threadArenaNext,
                                              systemMem: Self.threadHeapSize, flags: 2)
            var threadWords = heapInfo + threadState
            threadWords += [UInt64](repeating: 0, count: Int(Self.threadHeapSize / 8) - threadWords.count)
            threadWords[Int((Self.threadChunk - Self.threadHeap) / 8) + 1] = 0x30 | 0x5
            threadWords[Int((Self.threadTop - Self.threadHeap) / 8) + 1] = (Self.threadHeapSize - (Self.threadTop - Self.threadHeap)) | 0x5
            synthetic.segments.append(.init(address: Self.threadHeap, contents: words64(threadWords)))
        }
        synthetic.segments += extraSegments
        synthetic.threads = threads
        if libcMapped {
            synthetic.fileMappings = [(Self.libcData, Self.libcData + 0x1000, 0, "/usr/lib/x86_64-linux-gnu/libc.so.6")]
        }
        return try synthetic.write(name: "glibc-heap")
    }

    func walk(knownMainArena: UInt64? = nil) throws -> GlibcHeapResult {
        let path = try core()
        let core = try CoreFile(path: path)
        // The mapping stays valid after the file is unlinked; hundreds of walks leave no files.
        try? FileManager.default.removeItem(atPath: path)
        return GlibcHeap.walk(core: core, regions: RegionMap(core: core), knownMainArena: knownMainArena)
    }
}
