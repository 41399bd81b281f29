import Allocators
import ELFCore
import Regions

/// Where a reference that keeps memory alive can start (chap's roots).
public enum RootKind: String, CaseIterable, Sendable, Codable {
    /// A general register of a thread (NT_PRSTATUS).
    case register
    /// A thread's stack, from its stack pointer to the end of the stack mapping (which also
    /// holds the thread's TLS block for threads created by glibc).
    case stack
    /// Writable module data: .data, .bss and other writable file-backed mappings.
    case moduleData = "module-data"
    /// Anonymous writable memory that the allocator does not manage (main-thread TLS,
    /// mmap'd buffers, other allocators' arenas).
    case anonymous
}

/// One contiguous range of root memory, or the registers of one thread.
public struct RootRange: @unchecked Sendable {
    public let kind: RootKind
    /// What a person calls it: "stack of thread 123", "/usr/bin/server (bss)".
    public let name: String
    public let start: UInt64
    /// Root words laid out in memory order; for registers, the register values.
    public let bytes: UnsafeRawBufferPointer
    /// Register names, for `.register` roots only, parallel to the 8-byte words of `bytes`.
    public let registerNames: [String]
    /// The thread whose registers or stack this is.
    public var threadID: Int32? = nil
}

/// The roots of a core for a chosen set of root kinds.
public final class RootSet: @unchecked Sendable {
    public let ranges: [RootRange]
    public let kinds: Set<RootKind>
    /// Register values live here, since they are not in mapped memory.
    private var registerStorage: [UnsafeMutableRawBufferPointer] = []
    /// The set whose register values a subset's ranges point into.
    private var owner: RootSet?

    /// `nonPointerData`: words of module data that hold no pointer by their variables' DWARF
    /// types (`ModuleSet.nonPointerDataRanges`), left out of the module-data roots.
    public init(core: CoreFile, regions: RegionMap, table: AllocationTable, kinds: Set<RootKind> = Set(RootKind.allCases),
                nonPointerData: [Range<UInt64>] = []) {
        self.kinds = kinds
        var ranges: [RootRange] = []
        if kinds.contains(.register) {
            for thread in core.threads {
                let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: thread.registers.count * 8, alignment: 8)
                for (index, register) in thread.registers.enumerated() {
                    storage.storeBytes(of: register.value, toByteOffset: index * 8, as: UInt64.self)
                }
                registerStorage.append(storage)
                ranges.append(RootRange(kind: .register, name: "registers of thread \(thread.tid)", start: 0,
                                        bytes: UnsafeRawBufferPointer(storage), registerNames: thread.registers.map(\.name),
                                        threadID: thread.tid))
            }
        }
        // The allocator's bookkeeping is no root, wherever it lives.
        let excluded = AddressRanges.merged(table.managedRanges + table.allocatorState)
        let excludedData = AddressRanges.merged(excluded + nonPointerData)
        let stackPointers = Dictionary(core.threads.map { ($0.tid, $0.stackPointer) }, uniquingKeysWith: { first, _ in first })
        for region in regions.regions where !region.bytes.isEmpty {
            switch region.label {
            case .stack where kinds.contains(.stack):
                // Below the stack pointer is dead stack: stale copies there must not anchor.
                var start = region.start
                if let tid = region.threadID, let sp = stackPointers[tid], region.contains(sp) {
                    start = sp & ~7
                }
                var stack = Self.range(.stack, region.displayName, region, from: start, to: region.presentEnd)
                stack.threadID = region.threadID
                ranges.append(stack)
            case .file where kinds.contains(.moduleData) && region.isWritable:
                // Allocator state kept in module data (glibc's main_arena) is not a root.
                for piece in Self.subtract(excludedData, from: region.start..<region.presentEnd) {
                    ranges.append(Self.range(.moduleData, region.displayName, region, from: piece.lowerBound, to: piece.upperBound))
                }
            case .heap where kinds.contains(.anonymous):
                for piece in Self.subtract(excluded, from: region.start..<region.presentEnd) {
                    ranges.append(Self.range(.anonymous, "anonymous \(hex(region.start))", region,
                                             from: piece.lowerBound, to: piece.upperBound))
                }
            default:
                continue
            }
        }
        self.ranges = ranges.filter { !$0.bytes.isEmpty }
    }

    /// The roots of `whole` that `keep` accepts; `whole` lives as long as this set, since it
    /// owns the register values.
    private init(_ whole: RootSet, keeping keep: (RootRange) -> Bool) {
        ranges = whole.ranges.filter(keep)
        kinds = whole.kinds
        owner = whole
    }

    /// These roots without the ranges `subset` names.
    public func without(_ subset: AnchorSubset) -> RootSet { RootSet(self, keeping: { !subset.contains($0) }) }

    /// Whether any root is in `subset` (a thread id the core does not have names none).
    public func hasRoots(in subset: AnchorSubset) -> Bool { ranges.contains(where: subset.contains) }

    deinit {
        for storage in registerStorage { storage.deallocate() }
    }

    private static func range(_ kind: RootKind, _ name: String, _ region: Region, from start: UInt64, to end: UInt64) -> RootRange {
        // Clamped to the bytes the core holds: a stack pointer can lie past a cut-short stack.
        let lower = Int(min(start &- region.start, UInt64(region.bytes.count)))
        let upper = Int(min(end &- region.start, UInt64(region.bytes.count)))
        return RootRange(kind: kind, name: name, start: start,
                         bytes: UnsafeRawBufferPointer(rebasing: region.bytes[lower..<max(lower, upper)]), registerNames: [])
    }

    /// `whole` minus the sorted, disjoint `holes`.
    static func subtract(_ holes: [Range<UInt64>], from whole: Range<UInt64>) -> [Range<UInt64>] {
        var pieces: [Range<UInt64>] = []
        var cursor = whole.lowerBound
        for hole in holes where hole.upperBound > cursor && hole.lowerBound < whole.upperBound {
            if hole.lowerBound > cursor { pieces.append(cursor..<hole.lowerBound) }
            cursor = max(cursor, hole.upperBound)
        }
        if cursor < whole.upperBound { pieces.append(cursor..<whole.upperBound) }
        return pieces
    }
}
