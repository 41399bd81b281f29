import Allocators
import ELFCore
import Symbols

/// Pointer layouts learned from the heap for classes without DWARF (stripped, RTTI only): every
/// object of one dynamic type has the same layout, so what some of them show proves what a word
/// of all of them is.
/// - A libstdc++ `std::string` member: a word that in every object of the type starts a string
///   header, short (pointing 16 bytes past itself at a NUL-terminated local buffer) in several
///   of them. The three words after it are the length and the 16-byte local buffer, which in a
///   long string holds the capacity and 8 bytes from the block's previous life, never a
///   pointer. One object's stale bytes can look like a short string (the previous occupant's
///   header, its characters now a pointer's bytes); every object cannot.
/// - A character array: a word that is eight printable characters, or the end of a string such a
///   word began (printable characters up to a NUL), in enough objects of the type (at least two,
///   and 1 % of them, so that a random integer or pointer does not count) is text, never a
///   pointer, whatever it holds in the others.
/// Every other word stays a pointer slot, so such a layout only ever removes words whose type the
/// heap proved; classes that prove nothing get no layout and are scanned whole.
enum ObservedLayouts {
    /// Words of an object examined: members past 512 bytes are scanned as before.
    static let maximumSlots = 64
    /// Objects of one type examined: the evidence is in the frequent shapes.
    static let maximumInstances = 16_384

    private struct Census {
        var instances = 0
        var smallestBlock = UInt64.max
        var shortStrings = [Int](repeating: 0, count: ObservedLayouts.maximumSlots)
        /// Slots that held no string header in some object: not a string member.
        var notStrings: UInt64 = 1
        var textCounts = [Int](repeating: 0, count: ObservedLayouts.maximumSlots)
    }

    /// Layouts for the `vptrs` (primary vtable address points with no layout of their own) whose
    /// objects prove at least one word is no pointer.
    static func layouts(for vptrs: [UInt64], table: AllocationTable, memory: AddressSpace) -> [UInt64: PointerLayout] {
        guard !vptrs.isEmpty else { return [:] }
        let sorted = vptrs.sorted()
        var censuses = [Census](repeating: Census(), count: sorted.count)
        var hint = -1
        for allocation in table.allocations where allocation.isUsed && allocation.usableSize >= 32 {
            guard let words = memory.prefixView(at: allocation.address, upTo: Int(clamping: min(allocation.usableSize, 512)),
                                                hint: &hint), words.count >= 32 else { continue }
            let first = words.loadUnaligned(as: UInt64.self)
            let position = sorted.firstIndex(keyAtLeast: first) { $0 }
            guard position < sorted.count, sorted[position] == first,
                  censuses[position].instances < maximumInstances else { continue }
            censuses[position].instances += 1
            censuses[position].smallestBlock = min(censuses[position].smallestBlock, allocation.usableSize)
            let slots = words.count / 8
            var previousIsText = false
            for slot in 1..<slots {
                let word = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
                let isText = isPrintable(word)
                if isText || (previousIsText && endsText(word)) {
                    censuses[position].textCounts[slot] += 1
                }
                previousIsText = isText
                guard censuses[position].notStrings & (1 << UInt64(slot)) == 0 else { continue }
                switch stringHeader(words, slot: slot, address: allocation.address &+ UInt64(slot * 8)) {
                case .short: censuses[position].shortStrings[slot] += 1
                case .long: break
                case .none: censuses[position].notStrings |= 1 << UInt64(slot)
                }
            }
        }
        var layouts: [UInt64: PointerLayout] = [:]
        for (position, census) in censuses.enumerated() where census.instances > 0 {
            let slots = Int(min(census.smallestBlock, UInt64(maximumSlots * 8)) / 8)
            var notPointers = [Bool](repeating: false, count: slots)
            for slot in 1..<slots
            where census.notStrings & (1 << UInt64(slot)) == 0 && isFrequent(census.shortStrings[slot], of: census.instances) {
                for member in (slot + 1)...(slot + 3) where member < slots { notPointers[member] = true }
            }
            for slot in 1..<slots where isFrequent(census.textCounts[slot], of: census.instances) {
                notPointers[slot] = true
            }
            guard notPointers.contains(true) else { continue }
            let pointerSlots = (0..<slots).filter { !notPointers[$0] }.map(UInt32.init)
            layouts[sorted[position]] = PointerLayout(size: UInt64(slots * 8), pointerSlots: pointerSlots)
        }
        return layouts
    }

    private enum StringHeader { case short, long }

    /// What the words at `slot` (at `address`) are as a libstdc++ string {pointer, length,
    /// capacity or local buffer}: short (pointing at its own local buffer, NUL-terminated at a
    /// length of 1 to 15 printable characters, which stale pointer bytes do not imitate), long
    /// (a 16-byte aligned pointer elsewhere, capacity > 15, length ≤ capacity), or nil.
    private static func stringHeader(_ words: UnsafeRawBufferPointer, slot: Int, address: UInt64) -> StringHeader? {
        guard (slot + 4) * 8 <= words.count else { return nil }
        let pointer = words.loadUnaligned(fromByteOffset: slot * 8, as: UInt64.self)
        let length = words.loadUnaligned(fromByteOffset: (slot + 1) * 8, as: UInt64.self)
        if pointer == address &+ 16 {
            guard length >= 1, length <= 15, ContainerShapes.isShortString(words, slot: slot) else { return nil }
            let start = (slot + 2) * 8
            for offset in start..<(start + Int(length)) where words[offset] < 0x20 || words[offset] > 0x7e { return nil }
            return .short
        }
        let capacity = words.loadUnaligned(fromByteOffset: (slot + 2) * 8, as: UInt64.self)
        guard pointer != 0, pointer & 15 == 0, capacity > 15, capacity < 1 << 40, length <= capacity else { return nil }
        return .long
    }

    /// Seen in at least two objects and 1 % of them: one object's stale bytes can look like
    /// anything once.
    private static func isFrequent(_ count: Int, of instances: Int) -> Bool {
        count >= 2 && count * 100 >= instances
    }

    /// Three to seven printable characters, then a NUL: the last word of a string (a pointer's
    /// bytes are that only if its fourth byte is zero).
    @inline(__always)
    static func endsText(_ word: UInt64) -> Bool {
        var rest = word
        var characters = 0
        while rest & 0xff >= 0x20 && rest & 0xff <= 0x7e {
            characters += 1
            rest >>= 8
        }
        return characters >= 3 && characters < 8 && rest & 0xff == 0
    }

    /// Eight bytes of printable ASCII: no user-space pointer (its top two bytes are zero).
    @inline(__always)
    static func isPrintable(_ word: UInt64) -> Bool {
        let high: UInt64 = 0x8080_8080_8080_8080
        // Per byte, with bit 7 set so no borrow crosses bytes: (b & 0x7f) ≥ 0x20 and ≤ 0x7e.
        let atLeastSpace = (word | high) &- 0x2020_2020_2020_2020
        let atMostTilde = (0x7e7e_7e7e_7e7e_7e7e | high) &- (word & 0x7f7f_7f7f_7f7f_7f7f)
        return atLeastSpace & atMostTilde & ~word & high == high
    }
}
