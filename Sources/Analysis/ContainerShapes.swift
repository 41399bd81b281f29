import Allocators
import ELFCore

/// libstdc++'s `std::string`, `std::vector` and `std::deque` as they look in memory, recognised without
/// debuginfo so the mark phase can skip the stale bytes they imply: a string's characters, a
/// vector's spare capacity, a deque's popped slots, a short string's unused local buffer. Each test asks for several
/// facts at once, because skipping bytes that hold a live pointer would call a live object leaked.
enum ContainerShapes {
    /// A heap block returned for `request` bytes: glibc rounds up to 16, jemalloc to a size class
    /// (at most a quarter more), large blocks to pages.
    @inline(__always)
    static func isTightlySized(usable: UInt64, request: UInt64) -> Bool {
        guard request > 0, usable >= request else { return false }
        let slack = usable - request
        return slack < max(32, request / 4 + 16) || (request >= 128 << 10 && slack < 8192)
    }

    /// The block is the one glibc or jemalloc hands out for `request` bytes: its slack is the
    /// allocator's rounding, not room for anything the program put there.
    static func isExactlySized(usable: UInt64, request: UInt64) -> Bool {
        guard request > 0, usable >= request else { return false }
        let glibc = max(24, ((request &+ 8 &+ 15) & ~15) &- 8)
        let jemalloc: UInt64
        if request <= 8 {
            jemalloc = 8
        } else if request <= 128 {
            jemalloc = (request + 15) & ~15
        } else {
            let step = UInt64(1) << UInt64(63 - (request - 1).leadingZeroBitCount - 2)
            jemalloc = (request + step - 1) & ~(step - 1)
        }
        return usable == glibc || usable == jemalloc
    }

    /// `words[slot...]` is a long `std::string` {pointer, length, capacity} whose pointer is the
    /// start of `target`: capacity > 15 (shorter strings live in place), 0 < length ≤ capacity,
    /// the block sized for capacity + 1, and the characters a C string of exactly that length
    /// (no NUL before the terminator). An empty string is not believed: a node {left, 0, key}
    /// of a `std::map` has that shape. A string holding NULs is scanned, which costs nothing but
    /// precision.
    @inline(__always)
    static func isStringBuffer(_ words: UnsafeRawBufferPointer, slot: Int, target: Allocation,
                               memory: AddressSpace) -> Bool {
        guard (slot + 3) * 8 <= words.count else { return false }
        let length = words.loadUnaligned(fromByteOffset: (slot + 1) * 8, as: UInt64.self)
        let capacity = words.loadUnaligned(fromByteOffset: (slot + 2) * 8, as: UInt64.self)
        guard capacity > 15, length > 0, length <= capacity, capacity < 1 << 40,
              isTightlySized(usable: target.usableSize, request: capacity + 1) else { return false }
        var hint = -1
        guard let characters = memory.view(at: target.address, count: Int(length) + 1, hint: &hint) else { return false }
        return isCString(characters)
    }

    /// `words[slot...]` is a `std::vector` {start, finish, end_of_storage} whose start is the start
    /// of `target`: start ≤ finish ≤ end_of_storage ≤ the block's end, the block sized for the
    /// capacity. Returns the bytes in use (finish − start, rounded up to a word), or nil.
    @inline(__always)
    static func vectorLength(_ words: UnsafeRawBufferPointer, slot: Int, target: Allocation) -> UInt64? {
        guard (slot + 3) * 8 <= words.count else { return nil }
        let start = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
        let finish = words.loadUnaligned(fromByteOffset: (slot + 1) * 8, as: UInt64.self)
        let end = words.loadUnaligned(fromByteOffset: (slot + 2) * 8, as: UInt64.self)
        guard start == target.address, start <= finish, finish <= end, end > start, end <= target.end,
              isTightlySized(usable: target.usableSize, request: end - start) else { return nil }
        return (finish - start + 7) & ~7
    }

    /// `words[slot]` is the finish or end_of_storage of a vector whose start is one or two words
    /// before: an interior pointer of that vector's own buffer, or (a full vector) the address
    /// just past it, which may be the next block's start. Either way it says nothing new.
    @inline(__always)
    static func isVectorTail(_ words: UnsafeRawBufferPointer, slot: Int, value: UInt64,
                             allocationAt: (UInt64) -> Allocation?) -> Bool {
        for back in 1...2 where slot >= back {
            let start = words.loadUnaligned(fromByteOffset: (slot - back) * 8, as: UInt64.self)
            guard start <= value, value - start <= 1 << 40, start & 7 == 0,
                  let buffer = allocationAt(start), buffer.address == start,
                  vectorLength(words, slot: slot - back, target: buffer) != nil else { continue }
            return true
        }
        return false
    }

    /// The live parts of a `std::deque`'s blocks, as its header says.
    struct DequeRanges {
        /// The map of block pointers between the first and the last block: the end entries are
        /// `first` and `last` themselves, which the header delivers with their own ranges.
        var map: LiveRange
        var first: LiveRange
        /// Nil when the deque's elements all sit in its first block.
        var last: LiveRange?
    }

    /// Bytes `lo..<hi` of allocation `index` hold the container's elements; lo == hi for none.
    struct LiveRange {
        let index: Int
        let lo: UInt64
        let hi: UInt64
    }

    /// `words[slot...]` is a `std::deque` {map, map_size, start{cur, first, last, node},
    /// finish{cur, first, last, node}} whose map is the start of `map`: both nodes inside the
    /// map and pointing at their blocks, equal block sizes, cursors inside their blocks, blocks and
    /// map sized for what they hold. Popped elements stay in a deque's blocks (the cursors move
    /// past them), so only [start.cur, finish.cur) is live.
    static func dequeRanges(_ words: UnsafeRawBufferPointer, slot: Int, map: Allocation, mapIndex: Int,
                            memory: AddressSpace, allocationIndex: (UInt64) -> Int,
                            allocations: UnsafeBufferPointer<Allocation>) -> DequeRanges? {
        guard (slot + 10) * 8 <= words.count else { return nil }
        @inline(__always) func word(_ at: Int) -> UInt64 {
            words.loadUnaligned(fromByteOffset: (slot + at) * 8, as: UInt64.self)
        }
        // libstdc++ starts every map at 8 entries.
        let mapSize = word(1)
        guard mapSize >= 8, mapSize <= map.usableSize / 8,
              isTightlySized(usable: map.usableSize, request: mapSize * 8) else { return nil }
        let (startCur, startFirst, startLast, startNode) = (word(2), word(3), word(4), word(5))
        let (finishCur, finishFirst, finishLast, finishNode) = (word(6), word(7), word(8), word(9))
        let mapEnd = map.address + mapSize * 8
        guard startNode >= map.address, startNode <= finishNode, finishNode < mapEnd,
              (startNode - map.address) & 7 == 0, (finishNode - map.address) & 7 == 0,
              startFirst <= startCur, startCur < startLast, finishFirst <= finishCur, finishCur < finishLast,
              startLast - startFirst == finishLast - finishFirst, startLast - startFirst <= 1 << 24,
              memory.readU64(startNode) == startFirst, memory.readU64(finishNode) == finishFirst
        else { return nil }
        let blockBytes = startLast - startFirst
        func block(_ first: UInt64) -> Int? {
            let index = allocationIndex(first)
            guard index >= 0, allocations[index].address == first,
                  isTightlySized(usable: allocations[index].usableSize, request: blockBytes) else { return nil }
            return index
        }
        guard let firstBlock = block(startFirst) else { return nil }
        let lo = (startCur - startFirst) & ~7
        if startNode == finishNode {
            guard finishFirst == startFirst, startCur <= finishCur else { return nil }
            return DequeRanges(map: LiveRange(index: mapIndex, lo: 0, hi: 0),
                               first: LiveRange(index: firstBlock, lo: lo, hi: (finishCur - startFirst + 7) & ~7),
                               last: nil)
        }
        guard let lastBlock = block(finishFirst), lastBlock != firstBlock else { return nil }
        let inner = startNode + 8 - map.address
        return DequeRanges(map: LiveRange(index: mapIndex, lo: inner, hi: max(inner, finishNode - map.address)),
                           first: LiveRange(index: firstBlock, lo: lo, hi: blockBytes),
                           last: LiveRange(index: lastBlock, lo: 0, hi: (finishCur - finishFirst + 7) & ~7))
    }

    /// `words[slot]` points 16 bytes past itself, at a short string's local buffer {pointer,
    /// length ≤ 15, 16 bytes}, NUL-terminated where the length says: the buffer's two words hold
    /// characters and whatever the block held before, never a live pointer.
    @inline(__always)
    static func isShortString(_ words: UnsafeRawBufferPointer, slot: Int) -> Bool {
        guard (slot + 4) * 8 <= words.count else { return false }
        let length = words.loadUnaligned(fromByteOffset: (slot + 1) * 8, as: UInt64.self)
        guard length <= 15 else { return false }
        let start = (slot + 2) * 8
        return isCString(UnsafeRawBufferPointer(rebasing: words[start...(start + Int(length))]))
    }

    /// The last byte is the only NUL.
    @inline(__always)
    private static func isCString(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.firstIndex(of: 0) == bytes.count - 1
    }
}
