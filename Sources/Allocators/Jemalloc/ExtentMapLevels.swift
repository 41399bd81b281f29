import ELFCore

/// One 2 MiB level of the extent map (the root or a leaf), viewed where the core maps it: one
/// view when one segment holds it, else one per directly adjacent segment (a level may
/// straddle mappings the core keeps apart). Only a join that splits a word, which an unaligned
/// address from a damaged slot can make, costs a copy.
struct ExtentMapLevel {
    /// Views in address order, each a whole number of words, with the index of its first word.
    private let pieces: [(firstWord: Int, bytes: UnsafeRawBufferPointer)]
    private let copy: [UInt8]?
    /// Keeps the mapping the pieces view alive.
    private let memory: AddressSpace

    var isCopy: Bool { copy != nil }

    fileprivate init?(memory: AddressSpace, address: UInt64) {
        self.memory = memory
        guard memory.isPresent(address, count: JemallocLayout.leafBytes) else { return nil }
        var pieces: [(firstWord: Int, bytes: UnsafeRawBufferPointer)] = []
        var offset = 0
        var hint = -1
        while offset < JemallocLayout.leafBytes {
            guard let view = memory.prefixView(at: address + UInt64(offset), upTo: JemallocLayout.leafBytes - offset, hint: &hint),
                  view.count & 7 == 0, view.count > 0 else { break }
            pieces.append((offset / 8, view))
            offset += view.count
        }
        if offset == JemallocLayout.leafBytes {
            self.pieces = pieces
            copy = nil
        } else {
            guard let bytes = memory.read(address, count: JemallocLayout.leafBytes) else { return nil }
            self.pieces = []
            copy = bytes
        }
    }

    /// Calls `body` with the index (0 ..< 2^18) and value of each non-zero slot, in order, while
    /// it returns true. Levels are mostly zeros: 256-byte blocks of them are skipped whole.
    @inline(__always)
    func forEachNonzeroWord(_ body: (Int, UInt64) -> Bool) {
        func scan(_ bytes: UnsafeRawBufferPointer, firstWord: Int) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let length = min(256, bytes.count - offset)
                if length == 256 {
                    let block = bytes.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt64>.self)
                        | bytes.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<UInt64>.self)
                        | bytes.loadUnaligned(fromByteOffset: offset + 128, as: SIMD8<UInt64>.self)
                        | bytes.loadUnaligned(fromByteOffset: offset + 192, as: SIMD8<UInt64>.self)
                    if !WordBlocks.anyNonzero(block) {
                        offset += 256
                        continue
                    }
                }
                for wordOffset in stride(from: offset, to: offset + length, by: 8) {
                    let value = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: wordOffset, as: UInt64.self))
                    if value != 0 && !body(firstWord + wordOffset / 8, value) { return false }
                }
                offset += length
            }
            return true
        }
        if let copy {
            _ = copy.withUnsafeBytes { scan($0, firstWord: 0) }
            return
        }
        for piece in pieces where !scan(piece.bytes, firstWord: piece.firstWord) { return }
    }

    /// Slot `index` (0 ..< 2^18) of the level.
    func word(_ index: Int) -> UInt64 {
        if let copy {
            return copy.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) }
        }
        let piece = pieces.last { $0.firstWord <= index }!
        return UInt64(littleEndian: piece.bytes.loadUnaligned(fromByteOffset: (index - piece.firstWord) * 8, as: UInt64.self))
    }
}

/// The extent-map levels one read of the heap looks at, each read from the core once: the
/// root search, the root walk, the leaf walk and the votes on duplicated slots all ask for the
/// same few 2 MiB levels, which copied each time cost more than the walk itself.
final class ExtentMapLevels {
    let memory: AddressSpace
    private var levels: [UInt64: ExtentMapLevel?] = [:]
    /// Copies kept; past the bound a copied level is read again when asked for again, so a core
    /// holding a leaf's address in many places (each a candidate root) cannot pile up copies.
    private var copiesKept = 0
    static let maxCopiesKept = 16

    init(memory: AddressSpace) {
        self.memory = memory
    }

    /// The level at `address`, or nil when the core does not hold all of its bytes.
    func level(at address: UInt64) -> ExtentMapLevel? {
        if let known = levels[address] { return known }
        let level = ExtentMapLevel(memory: memory, address: address)
        if level?.isCopy == true {
            guard copiesKept < Self.maxCopiesKept else { return level }
            copiesKept += 1
        }
        levels[address] = level
        return level
    }
}
