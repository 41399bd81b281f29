import Allocators
import ELFCore
import Symbols

/// Reads the words of roots and allocations that can hold live pointers and reports each one
/// that points into a used allocation: the one scanning rule the mark phase, the
/// "referenced at all" pass and the leak-root analysis share.
struct PointerScanner: @unchecked Sendable {
    let allocations: UnsafeBufferPointer<Allocation>
    let lookup: AllocationLookup
    let used: BitSet
    /// Allocations the allocator made for its own bookkeeping: never scanned.
    let allocatorOwned: BitSet
    let memory: AddressSpace
    let layouts: TypedLayouts

    /// Conservative: every aligned word, except a short string's local buffer.
    /// `onHit(words, slot, value, target)` runs for each word pointing into another used allocation.
    @inline(__always)
    func scanWords(_ words: UnsafeRawBufferPointer, base: UInt64, from: Int,
                   onHit: (UnsafeRawBufferPointer, Int, UInt64, Int) -> Void) {
        let wordCount = words.count / 8
        var skipThrough = -1
        var slot = 0
        while slot < wordCount {
            let value = words.loadUnaligned(fromByteOffset: slot &* 8, as: UInt64.self)
            if value &- (base &+ UInt64(slot &* 8)) == 16 && ContainerShapes.isShortString(words, slot: slot) {
                skipThrough = slot &+ 3
            }
            if slot > skipThrough {
                let index = lookup.find(value)
                if index >= 0 && index != from && used.contains(index) { onHit(words, slot, value, index) }
            }
            slot &+= 1
        }
    }

    /// The words of allocation `index` that can hold pointers: none for a string buffer, the
    /// first `limit` bytes of a vector buffer, the pointer members of each element of a typed
    /// object or array, else every word. Slack past a typed object is skipped only when the
    /// block is no larger than the allocator makes one for that size.
    func scanAllocation(_ index: Int, state: BlockState, limit: UInt64, hint: inout Int,
                        onHit: (UnsafeRawBufferPointer, Int, UInt64, Int) -> Void) {
        guard !allocatorOwned.contains(index) else { return }
        let allocation = allocations[index]
        var length = allocation.usableSize
        switch state {
        case .unreached, .whole: break
        case .characters: return
        case .limited: length = min(length, limit)
        }
        guard length >= 8, let words = memory.prefixView(at: allocation.address, upTo: Int(clamping: length), hint: &hint)
        else { return }
        if !layouts.isEmpty, let layout = layouts.layout(forFirstWord: words.loadUnaligned(as: UInt64.self)),
           layout.size >= 8, layout.size <= UInt64(words.count) {
            scanTyped(words, base: allocation.address, from: index, layout: layout,
                      tight: state == .limited || ContainerShapes.isTightlySized(
                        usable: allocation.usableSize,
                        request: allocation.usableSize / layout.size * layout.size),
                      onHit: onHit)
            return
        }
        if layouts.hasObjectOffsets && state != .limited {
            for offset in layouts.objectOffsets where offset &+ 8 <= UInt64(words.count) {
                guard let layout = layouts.layout(forFirstWord: words.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self)),
                      layout.size >= 8, offset &+ layout.size <= UInt64(words.count) else { continue }
                scanBehindHeader(words, offset: Int(offset), base: allocation.address, from: index, layout: layout,
                                 usable: allocation.usableSize, onHit: onHit)
                return
            }
        }
        scanWords(words, base: allocation.address, from: index, onHit: onHit)
    }

    /// An object at `offset` behind an allocator header: the header conservatively (it may hold
    /// an owner pointer), the object through its layout. Slots stay those of the whole block.
    private func scanBehindHeader(_ words: UnsafeRawBufferPointer, offset: Int, base: UInt64, from: Int,
                                  layout: PointerLayout, usable: UInt64,
                                  onHit: (UnsafeRawBufferPointer, Int, UInt64, Int) -> Void) {
        scanWords(UnsafeRawBufferPointer(rebasing: words[..<offset]), base: base, from: from) { _, slot, value, target in
            onHit(words, slot, value, target)
        }
        let space = usable &- UInt64(offset)
        let shift = offset / 8
        scanTyped(UnsafeRawBufferPointer(rebasing: words[offset...]), base: base &+ UInt64(offset), from: from, layout: layout,
                  tight: ContainerShapes.isTightlySized(usable: usable, request: UInt64(offset) &+ space / layout.size * layout.size)) {
            _, slot, value, target in
            onHit(words, slot &+ shift, value, target)
        }
    }

    /// Elements of one dynamic type laid end to end (one object, or a `std::vector` of them);
    /// an element whose first word is another vptr, and any untight tail, are scanned whole.
    private func scanTyped(_ words: UnsafeRawBufferPointer, base: UInt64, from: Int, layout: PointerLayout, tight: Bool,
                           onHit: (UnsafeRawBufferPointer, Int, UInt64, Int) -> Void) {
        let size = Int(layout.size)
        let vptr = words.loadUnaligned(as: UInt64.self)
        let elements = words.count / size
        var element = 0
        while element < elements {
            let offset = element &* size
            if element > 0 && words.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != vptr { break }
            for pointerSlot in layout.pointerSlots {
                let slot = offset / 8 &+ Int(pointerSlot)
                guard slot &* 8 &+ 8 <= words.count else { break }
                let value = words.loadUnaligned(fromByteOffset: slot &* 8, as: UInt64.self)
                let index = lookup.find(value)
                if index >= 0 && index != from && used.contains(index) { onHit(words, slot, value, index) }
            }
            element &+= 1
        }
        let rest = element &* size
        guard rest < words.count, !(element == elements && tight) else { return }
        // Whatever is not an element of the type is scanned as untyped memory, in place so that
        // slots keep their meaning for the container tests.
        let tail = UnsafeRawBufferPointer(rebasing: words[rest...])
        scanWords(tail, base: base &+ UInt64(rest), from: from) { _, slot, value, target in
            onHit(words, slot &+ rest / 8, value, target)
        }
    }
}
