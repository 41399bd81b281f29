import Allocators
import ELFCore

/// Where C++ objects start inside allocations whose first word is no vptr: an allocator wrapper
/// that puts a header before each object (MySQL's and MariaDB's my_malloc: 24 bytes) moves every
/// vptr to one small fixed offset. Per block size, the offset chosen is the one where a primary
/// vtable address point recurs in the most blocks (of a sample of up to `sampleSize` of that size);
/// a size with a single such block takes an offset that recurs in some other size (the wrapper's
/// header is the same for every size).
public struct ObjectOffsets: Sendable {
    /// Block size → where the object starts in blocks of that size.
    private let offsetByBlockSize: [UInt64: UInt64]
    /// The distinct offsets, ascending: what the typed scan tries after the first word.
    public let offsets: [UInt64]

    /// Headers are small; a vptr further in is a member object's, not the allocation's.
    public static let maximumOffset: UInt64 = 64
    /// Allocations examined per block size, spread over all of that size.
    static let sampleSize = 4096

    public static let none = ObjectOffsets(byBlockSize: [:])

    init(byBlockSize: [UInt64: UInt64]) {
        offsetByBlockSize = byBlockSize
        offsets = Set(byBlockSize.values).sorted()
    }

    public var isEmpty: Bool { offsetByBlockSize.isEmpty }

    /// How an object's type is shown: "THD", or "THD at +24" behind a header.
    public static func name(_ type: String, offset: UInt64) -> String {
        offset == 0 ? type : "\(type) at +\(offset)"
    }

    /// The offset of the object in a block of `blockSize` bytes, or nil when blocks of that size
    /// hold no object behind a header.
    public func offset(ofBlockSize blockSize: UInt64) -> UInt64? { offsetByBlockSize[blockSize] }

    /// `isPrimaryVptr` answers for words inside `vtableRanges` only; it is asked once per
    /// distinct word.
    public init(table: AllocationTable, memory: AddressSpace, vtableRanges: [Range<UInt64>],
                isPrimaryVptr: (UInt64) -> Bool) {
        let ranges = vtableRanges.sorted { $0.lowerBound < $1.lowerBound }
        var known: [UInt64: Bool] = [:]
        func isVptr(_ word: UInt64) -> Bool {
            guard ranges.index(containing: word, start: \.lowerBound, end: \.upperBound) != nil else { return false }
            if let answer = known[word] { return answer }
            let answer = isPrimaryVptr(word)
            known[word] = answer
            return answer
        }
        let slots = Int(Self.maximumOffset / 8)
        // The offsets are found in a spread-out sample of each size (the callers then test every
        // allocation of a chosen size exactly): reading the head of every block would cost a
        // heap of tens of millions of small blocks a third of a second.
        var sizeNumbers = SizeNumbering()
        var population: [Int] = []
        for allocation in table.allocations where allocation.isUsed && allocation.usableSize >= 16 {
            let number = sizeNumbers.number(of: allocation.blockSize)
            if number == population.count { population.append(0) }
            population[number] += 1
        }
        var seen = [Int](repeating: 0, count: population.count)
        // Per block size, how many sampled blocks have their first vptr at each word offset 1...slots.
        var hits: [UInt64: [Int]] = [:]
        var hint = -1
        for allocation in table.allocations where allocation.isUsed && allocation.usableSize >= 16 {
            let number = sizeNumbers.number(of: allocation.blockSize)
            seen[number] += 1
            guard (seen[number] - 1) % max(1, population[number] / Self.sampleSize) == 0 else { continue }
            let length = Int(min(allocation.usableSize, Self.maximumOffset + 8))
            guard let head = memory.prefixView(at: allocation.address, upTo: length, hint: &hint), head.count >= 16,
                  !isVptr(head.loadUnaligned(as: UInt64.self)) else { continue }
            for slot in 1..<min(slots + 1, head.count / 8) where isVptr(head.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)) {
                hits[allocation.blockSize, default: [Int](repeating: 0, count: slots + 1)][slot] += 1
                break
            }
        }
        var chosen: [UInt64: (offset: UInt64, blocks: Int)] = [:]
        for (blockSize, counts) in hits {
            guard let best = counts.indices.dropFirst().max(by: { counts[$0] != counts[$1] ? counts[$0] < counts[$1] : $0 > $1 })
            else { continue }
            chosen[blockSize] = (UInt64(best * 8), counts[best])
        }
        let recurring = Set(chosen.values.filter { $0.blocks >= 2 }.map(\.offset))
        self.init(byBlockSize: chosen.filter { recurring.contains($0.value.offset) }.mapValues(\.offset))
    }
}
