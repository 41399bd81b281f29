import Allocators
import ELFCore
import Regions

/// Any address that is not inside an allocation, as `show` prints it: what the memory there is
/// (module data with the symbol covering it, a thread's stack and whether it is live, the
/// allocator's own state, other mapped memory) and its words, each pointer annotated.
public struct AddressView: Sendable, Codable {
    /// The core file's path, as every command's JSON names it.
    public var core = ""
    public let address: String
    /// heap, stack, file, vdso, vsyscall or other (RegionLabel).
    public let region: String
    /// "stack of thread 123", "/usr/bin/server (bss)".
    public let regionName: String
    public let regionStart: String
    public let offsetInRegion: UInt64
    /// The symbol covering the address, "g_cache+0x8 in server".
    public let symbol: String?
    /// What the address is to the allocator or a thread: "the allocator's own state", "live
    /// stack of thread 123, 96 bytes above its stack pointer", "dead stack of thread 123 …".
    public let note: String?
    /// Up to the bytes asked for, from the address rounded down to 8.
    public let words: [AllocationView.Word]
}

extension LeakAnalysis {
    /// The memory at `address` when it is mapped but in no allocation; nil when it is not mapped.
    public func addressView(of address: UInt64, maxBytes: Int) -> AddressView? {
        guard let region = regions.region(containing: address) else { return nil }
        var note: String?
        if let table, table.allocatorState.index(containing: address, start: \.lowerBound, end: \.upperBound) != nil
            || table.managedRanges.index(containing: address, start: \.lowerBound, end: \.upperBound) != nil {
            note = table.places.place(containing: address)
                ?? "the allocator's own memory (bookkeeping, the top chunk or space between chunks)"
        }
        if region.label == .stack, let tid = region.threadID,
           let thread = core.threads.first(where: { $0.tid == tid }) {
            let sp = thread.stackPointer
            note = address >= sp
                ? "live stack of thread \(tid), \(address - sp) bytes above its stack pointer"
                    + (describeFrame(tid, address).map { ", in \($0)" } ?? "")
                : "dead stack of thread \(tid), \(sp - address) bytes below its stack pointer (not a root)"
        }
        let start = address & ~7
        var words: [AllocationView.Word] = []
        var hint = -1
        let length = Int(min(UInt64(max(0, maxBytes)), region.presentEnd > start ? region.presentEnd - start : 0)) / 8 * 8
        if length > 0, let bytes = core.addressSpace.prefixView(at: start, upTo: length, hint: &hint) {
            for offset in stride(from: 0, to: bytes.count - 7, by: 8) {
                let value = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                words.append(.init(offset: UInt64(offset), value: hex(value), pointsTo: describeTarget(of: value)))
            }
        }
        var view = AddressView(address: hex(address), region: region.label.rawValue, regionName: region.displayName,
                               regionStart: hex(region.start), offsetInRegion: address - region.start,
                               symbol: symbolize(address), note: note, words: words)
        view.core = core.path
        return view
    }
}
