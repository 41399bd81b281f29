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
    /// Where the scans note what each block is to the container whose header they met.
    let roles: ContainerRoles

    /// What the words around a pointer say about the block it points to.
    enum Evidence: Equatable {
        /// A plain word: the mark loop's own tests (string, vector) decide, else the whole block.
        case word
        /// A pointer member of a typed object: as a plain word, but known to be a pointer, and to
        /// the struct of layout `pointee` when that is not -1.
        case member(pointee: Int32)
        /// A recognised container's header: only bytes `lo..<hi` of the block are live, and the
        /// block plays `role` in the container.
        case live(lo: UInt64, hi: UInt64, role: ContainerRole)
    }

    /// `(words, slot, value, target, evidence)`: the word at `slot` of `words` holds `value`,
    /// which points into used allocation `target`.
    typealias Hit = (UnsafeRawBufferPointer, Int, UInt64, Int, Evidence) -> Void

    /// Conservative: every aligned word in `slots` (all by default), except a short string's
    /// local buffer and a deque header's cursors. Words past `slots` still count as context: a
    /// header cut by a live range's end must be recognised as it is in a whole scan, or its
    /// cursors would anchor the stale slots of its blocks for good. `onHit` runs for each word
    /// pointing into another used allocation.
    @inline(__always)
    func scanWords(_ words: UnsafeRawBufferPointer, base: UInt64, from: Int, slots: Range<Int>? = nil, onHit: Hit) {
        let wordCount = slots?.upperBound ?? words.count / 8
        var skipThrough = -1
        var slot = slots?.lowerBound ?? 0
        while slot < wordCount {
            let value = words.loadUnaligned(fromByteOffset: slot &* 8, as: UInt64.self)
            if value &- (base &+ UInt64(slot &* 8)) == 16 && ContainerShapes.isShortString(words, slot: slot) {
                skipThrough = slot &+ 3
            }
            if slot > skipThrough {
                let index = lookup.find(value)
                if index >= 0 && index != from && used.contains(index) {
                    skipThrough = max(skipThrough, report(words, slot: slot, value: value, target: index, as: .word, onHit: onHit))
                }
            }
            slot &+= 1
        }
    }

    /// The words of allocation `index` that can hold pointers: none for a string buffer, the
    /// live range of a container's buffer, the pointer members of each element of a typed
    /// object or array, else every word. Slack past a typed object is skipped only when the
    /// block is no larger than the allocator makes one for that size.
    func scanAllocation(_ index: Int, state: BlockState, view: LimitedViews.View, hint: inout Int, onHit: Hit) {
        guard !allocatorOwned.contains(index) else { return }
        let allocation = allocations[index]
        guard state != .characters,
              let words = memory.prefixView(at: allocation.address, upTo: Int(clamping: allocation.usableSize), hint: &hint)
        else { return }
        guard state == .limited else {
            scanElements(words, base: allocation.address, from: index, limited: false, onHit: onHit)
            return
        }
        let live: LimitedViews.Range
        switch view {
        case let .object(id):
            let layout = layouts.layout(id: id)
            if layout.size <= UInt64(words.count) {
                // Only within sizeof(T) when the block is what malloc(sizeof(T)) returns and no
                // larger struct begins with a T.
                scanTyped(words, base: allocation.address, from: index, layout: layout,
                          tight: !layout.mayBeEmbedded
                            && ContainerShapes.isExactlySized(usable: UInt64(words.count), request: layout.size),
                          objects: layout.isPointerElement ? .max : 1, byVptr: false, onHit: onHit)
            } else {
                scanWords(words, base: allocation.address, from: index, onHit: onHit)
            }
            return
        case let .range(range, element):
            guard !range.isEmpty else { return }
            live = range
            if element >= 0, range.lo == 0, layouts.layout(forFirstWord: words.loadUnaligned(as: UInt64.self)) == nil {
                let layout = layouts.layout(id: element)
                let end = min(words.count, Int(clamping: range.hi))
                if layout.size >= 8, UInt64(end) >= layout.size {
                    scanTyped(UnsafeRawBufferPointer(rebasing: words[0..<end]), base: allocation.address, from: index,
                              layout: layout, tight: true, byVptr: false, onHit: onHit)
                    return
                }
            }
        }
        let first = Int(clamping: live.lo) / 8
        let end = min(words.count, Int(clamping: live.hi)) / 8
        guard first < end else { return }
        if !layouts.isEmpty, layouts.layout(forFirstWord: words.loadUnaligned(fromByteOffset: first * 8, as: UInt64.self)) != nil {
            // Typed elements, scanned in place so that slots keep their offsets in the block.
            let elements = UnsafeRawBufferPointer(rebasing: words[(first * 8)..<(end * 8)])
            scanElements(elements, base: allocation.address &+ UInt64(first * 8), from: index, limited: true) { _, slot, value, target, evidence in
                onHit(words, slot &+ first, value, target, evidence)
            }
        } else {
            scanWords(words, base: allocation.address, from: index, slots: first..<end, onHit: onHit)
        }
    }

    /// Through the layout of the dynamic type the first word names, else word by word. A
    /// container's live range holds whole elements, so nothing past the last one is scanned.
    private func scanElements(_ words: UnsafeRawBufferPointer, base: UInt64, from: Int, limited: Bool, onHit: Hit) {
        if !layouts.isEmpty, let layout = layouts.layout(forFirstWord: words.loadUnaligned(as: UInt64.self)),
           layout.size >= 8, layout.size <= UInt64(words.count) {
            scanTyped(words, base: base, from: from, layout: layout,
                      tight: limited || ContainerShapes.isTightlySized(
                        usable: UInt64(words.count), request: UInt64(words.count) / layout.size * layout.size),
                      onHit: onHit)
            return
        }
        if layouts.hasObjectOffsets && !limited {
            for offset in layouts.objectOffsets where offset &+ 8 <= UInt64(words.count) {
                guard let layout = layouts.layout(forFirstWord: words.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self)),
                      layout.size >= 8, offset &+ layout.size <= UInt64(words.count) else { continue }
                scanBehindHeader(words, offset: Int(offset), base: base, from: from, layout: layout, onHit: onHit)
                return
            }
        }
        scanWords(words, base: base, from: from, onHit: onHit)
    }

    /// An object at `offset` behind an allocator header: the header conservatively (it may hold
    /// an owner pointer), the object through its layout. Slots stay those of the whole block.
    private func scanBehindHeader(_ words: UnsafeRawBufferPointer, offset: Int, base: UInt64, from: Int,
                                  layout: PointerLayout, onHit: Hit) {
        scanWords(words, base: base, from: from, slots: 0..<(offset / 8), onHit: onHit)
        let space = UInt64(words.count - offset)
        let shift = offset / 8
        scanTyped(UnsafeRawBufferPointer(rebasing: words[offset...]), base: base &+ UInt64(offset), from: from, layout: layout,
                  tight: ContainerShapes.isTightlySized(usable: UInt64(words.count),
                                                        request: UInt64(offset) &+ space / layout.size * layout.size)) {
            _, slot, value, target, evidence in
            onHit(words, slot &+ shift, value, target, evidence)
        }
    }

    /// Elements of one dynamic type laid end to end (one object, or a `std::vector` of them);
    /// an element whose first word is another vptr, and any untight tail, are scanned whole.
    /// `objects`: at most this many elements; one for a struct typed pointers lead to, which has
    /// no vptr to tell where its kind ends.
    /// `byVptr`: the layout is the dynamic type the first word names, and an element that does
    /// not start with the same vptr ends the run.
    private func scanTyped(_ words: UnsafeRawBufferPointer, base: UInt64, from: Int, layout: PointerLayout, tight: Bool,
                           objects: Int = .max, byVptr: Bool = true, onHit: Hit) {
        let size = Int(layout.size)
        let vptr = words.loadUnaligned(as: UInt64.self)
        let elements = min(objects, words.count / size)
        var element = 0
        var skipThrough = -1
        while element < elements {
            let offset = element &* size
            if byVptr && element > 0 && words.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != vptr { break }
            for (position, pointerSlot) in layout.pointerSlots.enumerated() {
                let slot = offset / 8 &+ Int(pointerSlot)
                guard slot &* 8 &+ 8 <= words.count else { break }
                guard slot > skipThrough else { continue }
                let value = words.loadUnaligned(fromByteOffset: slot &* 8, as: UInt64.self)
                let index = lookup.find(value)
                if index >= 0 && index != from && used.contains(index) {
                    let pointee = layout.pointees[position]
                    skipThrough = max(skipThrough, report(words, slot: slot, value: value, target: index,
                                                          as: layout.isDeclaredPointer[position] || pointee >= 0
                                                            ? .member(pointee: pointee) : .word,
                                                          onHit: onHit))
                }
            }
            element &+= 1
        }
        let rest = element &* size
        guard rest < words.count, !(element == elements && tight) else { return }
        // Whatever is not an element of the type is scanned as untyped memory, in place so that
        // slots keep their meaning for the container tests.
        let tail = UnsafeRawBufferPointer(rebasing: words[rest...])
        scanWords(tail, base: base &+ UInt64(rest), from: from) { _, slot, value, target, evidence in
            onHit(words, slot &+ rest / 8, value, target, evidence)
        }
    }

    /// What the header at `slot` makes of the block its start pointer `value` names: a long
    /// string's characters or a vector's buffer; nil for any other word. Static, over the
    /// pieces it reads, so the hot loops that call it for every hit copy no scanner.
    @inline(__always)
    static func bufferShape(_ words: UnsafeRawBufferPointer, slot: Int, value: UInt64, target: Allocation,
                            memory: AddressSpace) -> BufferShape? {
        guard value == target.address else { return nil }
        if ContainerShapes.isStringBuffer(words, slot: slot, target: target, memory: memory) {
            return .characters
        }
        if let length = ContainerShapes.vectorLength(words, slot: slot, target: target) {
            return .vector(length: length)
        }
        return nil
    }

    /// The word at `slot` is the finish or end of a vector whose header starts before it.
    @inline(__always)
    static func isVectorTail(_ words: UnsafeRawBufferPointer, slot: Int, value: UInt64, lookup: AllocationLookup,
                             allocations: UnsafeBufferPointer<Allocation>) -> Bool {
        ContainerShapes.isVectorTail(words, slot: slot, value: value, allocationAt: { pointer in
            let index = lookup.find(pointer)
            return index >= 0 ? allocations[index] : nil
        })
    }

    enum BufferShape {
        case characters
        /// Bytes in use, rounded up to a word.
        case vector(length: UInt64)

        var role: ContainerRole {
            switch self {
            case .characters: .stringBody
            case .vector: .vectorBody
            }
        }
    }

    /// Whether a pointer to the struct of layout `pointee` at the start of `target` may type it:
    /// the block is large enough, and names no type of its own by a vptr.
    func mayType(_ target: Int, as pointee: Int32) -> Bool {
        let allocation = allocations[target]
        guard layouts.layout(id: pointee).size <= allocation.usableSize else { return false }
        var hint = -1
        guard let first = memory.view(at: allocation.address, count: 8, hint: &hint)?.loadUnaligned(as: UInt64.self)
        else { return false }
        return layouts.layout(forFirstWord: first) == nil
    }

    /// Whether a pointer to the struct of layout `pointee` may point `offset` bytes into `target`:
    /// false only when the object there names its type by a vptr (or, `settledType`, declared
    /// pointers agree on it) and that type holds no such struct at that offset (the word is a
    /// pointer left from the block's previous life).
    func isConsistent(_ pointee: Int32, into target: Int, at offset: UInt64, settledType: Int32 = -1) -> Bool {
        guard let key = layouts.layout(id: pointee).ownKey else { return true }
        var hint = -1
        guard let first = memory.view(at: allocations[target].address, count: 8, hint: &hint)?.loadUnaligned(as: UInt64.self)
        else { return true }
        if let object = layouts.layout(forFirstWord: first) { return object.admits(key, at: offset) }
        return settledType < 0 || layouts.layout(id: settledType).admits(key, at: offset)
    }

    /// Reports the pointer at `slot` (a plain word or member), or, when it starts a deque header,
    /// the live ranges of the deque's map and end blocks in its place; returns the last slot it
    /// accounted for.
    @inline(__always)
    private func report(_ words: UnsafeRawBufferPointer, slot: Int, value: UInt64, target: Int, as plain: Evidence,
                        onHit: Hit) -> Int {
        if value == allocations[target].address, (slot &+ 10) &* 8 <= words.count,
           words.loadUnaligned(fromByteOffset: (slot &+ 1) &* 8, as: UInt64.self) &- 8 < 1 << 32 {
            return reportDeque(words, slot: slot, map: target, plain: plain, onHit: onHit)
        }
        onHit(words, slot, value, target, plain)
        return slot
    }

    private func reportDeque(_ words: UnsafeRawBufferPointer, slot: Int, map: Int, plain: Evidence, onHit: Hit) -> Int {
        guard let deque = ContainerShapes.dequeRanges(
            words, slot: slot, map: allocations[map], mapIndex: map, memory: memory,
            allocationIndex: { lookup.find($0) }, allocations: allocations),
            used.contains(deque.first.index), deque.last.map({ used.contains($0.index) }) ?? true
        else {
            onHit(words, slot, allocations[map].address, map, plain)
            return slot
        }
        let parts = [(deque.map, slot, ContainerRole.dequeMap), (deque.first, slot &+ 3, .dequeBlock)]
            + (deque.last.map { [($0, slot &+ 7, ContainerRole.dequeBlock)] } ?? [])
        for (range, at, role) in parts {
            onHit(words, at, allocations[range.index].address, range.index, .live(lo: range.lo, hi: range.hi, role: role))
        }
        // The blocks between the first and the last are reached through the map's live range
        // as plain words; what they are is known only here.
        var entry = allocations[map].address &+ deque.map.lo
        let mapEnd = allocations[map].address &+ deque.map.hi
        while entry < mapEnd {
            if let block = memory.readU64(entry) {
                let index = lookup.find(block)
                if index >= 0, allocations[index].address == block, used.contains(index) { roles.raise(index, to: .dequeBlock) }
            }
            entry &+= 8
        }
        return slot &+ 9
    }
}
