import Foundation

/// Writes a heap-like ELF core of a chosen size: one writable anonymous segment (the heap) and
/// one file-backed segment (the "executable" the vtables point into). Heap words are mostly
/// zeros and small integers, ~5% pointers into the heap, ~1% one of 20 vtable addresses, and
/// two planted magics at a known count.
struct SyntheticHeapCore {
    static let heapAddress: UInt64 = 0x5600_0000_0000
    static let executableAddress: UInt64 = 0x5555_5555_4000
    static let executableSize: UInt64 = 0x10000
    static let executablePath = "/usr/bin/bench-app"
    static let magic32: UInt64 = 0xa11c_0de5
    static let magic64: UInt64 = 0x5eed_0f1e_a4ed_0001
    /// One of each magic per this many bytes.
    static let magicSpacing = 64 << 10

    /// What the heap words are.
    enum Shape {
        /// As described above: sparse magics, few distinct values.
        case typical
        /// `typical` with the 4-byte magic in one word of every 400 bytes (2.7 M hits per GB),
        /// as a heap of many small objects that all carry it.
        case denseMagic
        /// Every word two random 32-bit halves drawn from a pool sized so that about half of
        /// the words are distinct values, as a heap of hashes and random keys.
        case highCardinality
    }

    let heapSize: UInt64
    var shape = Shape.typical

    /// Words between two dense magics (400 bytes).
    static let denseSpacingWords: UInt64 = 50

    var vtables: [UInt64] { (0..<20).map { Self.executableAddress + 0x3d00 + UInt64($0) * 0x58 } }
    var magic32Count: UInt64 {
        switch shape {
        case .typical: return heapSize / UInt64(Self.magicSpacing)
        case .denseMagic: return (heapSize / 8 + Self.denseSpacingWords - 4) / Self.denseSpacingWords
        case .highCardinality: return 0
        }
    }
    var magic64Count: UInt64 { heapSize / UInt64(Self.magicSpacing) }

    func write(to path: String) throws {
        guard let file = fopen(path, "wb") else { throw BenchError("cannot create \(path)") }
        defer { fclose(file) }
        let notes = fileNote()
        let headerSize: UInt64 = 64 + 3 * 56
        let notesOffset = headerSize
        let executableOffset = (notesOffset + UInt64(notes.count) + 4095) & ~4095
        let heapOffset = executableOffset + Self.executableSize
        var header = Self.elfHeader(programHeaders: 3)
        header += Self.programHeader(type: 4, flags: 4, offset: notesOffset, address: 0, size: UInt64(notes.count))
        header += Self.programHeader(type: 1, flags: 5, offset: executableOffset, address: Self.executableAddress, size: Self.executableSize)
        header += Self.programHeader(type: 1, flags: 6, offset: heapOffset, address: Self.heapAddress, size: heapSize)
        header += notes
        header += [UInt8](repeating: 0, count: Int(executableOffset) - header.count)
        header += [UInt8](repeating: 0x90, count: Int(Self.executableSize))
        guard fwrite(header, 1, header.count, file) == header.count else { throw BenchError("short write to \(path)") }

        var random = WordRandom(seed: 0x5eed)
        let vtables = self.vtables
        let bufferWords = 1 << 19
        var buffer = [UInt64](repeating: 0, count: bufferWords)
        var written: UInt64 = 0
        let spacingWords = UInt64(Self.magicSpacing / 8)
        // Uniform draws from a pool of n / 1.594 values leave half of n words distinct.
        let pool = max(1, heapSize / 8 * 1000 / 1594)
        while written < heapSize {
            let words = Int(min(UInt64(bufferWords), (heapSize - written) / 8))
            let firstWord = written / 8
            for index in 0..<words {
                let r = random.next()
                let word: UInt64
                switch r % 1000 {
                case 0..<50: word = Self.heapAddress + ((r >> 12) % heapSize) & ~15
                case 50..<60: word = vtables[Int((r >> 12) % 20)]
                case 60..<400: word = (r >> 20) % 1000
                default: word = 0
                }
                buffer[index] = word
                let position = firstWord + UInt64(index)
                switch shape {
                case .typical:
                    if position % spacingWords == 3 { buffer[index] = Self.magic32 }
                    if position % spacingWords == 5 { buffer[index] = Self.magic64 }
                case .denseMagic:
                    if position % Self.denseSpacingWords == 3 { buffer[index] = Self.magic32 }
                case .highCardinality:
                    buffer[index] = Self.poolValue((r >> 8) % pool)
                }
            }
            let bytes = words * 8
            let done = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes, file) }
            guard done == bytes else { throw BenchError("short write to \(path)") }
            written += UInt64(bytes)
        }
    }

    /// Pool entry `index` as two 32-bit halves that look random (a bijective mix), never one
    /// of the planted magics and never below 65536.
    static func poolValue(_ index: UInt64) -> UInt64 {
        var value = index &+ 0x9e37_79b9_7f4a_7c15
        value = (value ^ (value >> 30)) &* 0xbf58_476d_1ce4_e5b9
        value = (value ^ (value >> 27)) &* 0x94d0_49bb_1331_11eb
        value ^= value >> 31
        return value | 1 << 40
    }

    static func elfHeader(programHeaders: Int) -> [UInt8] {
        var out: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        out += le(UInt16(4)) + le(UInt16(62)) + le(UInt32(1)) + le(UInt64(0)) + le(UInt64(64)) + le(UInt64(0))
        out += le(UInt32(0)) + le(UInt16(64)) + le(UInt16(56)) + le(UInt16(programHeaders))
        out += le(UInt16(64)) + le(UInt16(0)) + le(UInt16(0))
        return out
    }

    static func programHeader(type: UInt32, flags: UInt32, offset: UInt64, address: UInt64, size: UInt64) -> [UInt8] {
        le(type) + le(flags) + le(offset) + le(address) + le(UInt64(0)) + le(size) + le(size) + le(UInt64(1))
    }

    /// NT_FILE naming the executable mapping, so the region map labels it `file`.
    private func fileNote() -> [UInt8] {
        var descriptor = Self.le(UInt64(1)) + Self.le(UInt64(4096))
        descriptor += Self.le(Self.executableAddress) + Self.le(Self.executableAddress + Self.executableSize) + Self.le(UInt64(0))
        descriptor += Array(Self.executablePath.utf8) + [0]
        while descriptor.count % 4 != 0 { descriptor.append(0) }
        return Self.le(UInt32(5)) + Self.le(UInt32(descriptor.count)) + Self.le(UInt32(0x4649_4c45)) + Array("CORE".utf8) + [0, 0, 0, 0] + descriptor
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}

/// xorshift64*: fast enough to generate a gigabyte of words in well under a second per core.
struct WordRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_f491_4f6c_dd1d
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
