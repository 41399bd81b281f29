import Allocators
import ELFCore
import Regions
import Symbols

/// The allocation a found address lies in, as `find` shows it next to each hit.
public struct AllocationContext: Sendable, Codable, Equatable {
    /// The allocation's start (the pointer malloc returned), "0x…".
    public let start: String
    public let usableSize: UInt64
    public let used: Bool
    /// Where in the allocation the address is.
    public let offset: UInt64
    /// The C++ class when the allocation's first word is a primary vtable address point.
    public let type: String?
}

/// Answers "which allocation holds this address" for many addresses of one core: the
/// allocator is walked once, types are identified once per distinct vptr.
public final class AllocationContextResolver {
    public let table: AllocationTable?
    private let memory: AddressSpace
    private let identifier: TypeIdentifier?
    private var typeNames: [UInt64: String?] = [:]

    public init(core: CoreFile, regions: RegionMap, modules: ModuleSet?) {
        let walked = ProcessAllocator.allocationTable(core: core, regions: regions,
                                                      knownMainArena: modules.flatMap(GlibcHeap.mainArenaSymbol(in:)))
        table = walked.allocations.isEmpty ? nil : walked
        memory = core.addressSpace
        identifier = modules.map { TypeIdentifier(modules: $0, memory: ProcessMemory(core: core, modules: $0)) }
    }

    public func context(of address: UInt64) -> AllocationContext? {
        guard let table, let allocation = table.allocation(containing: address) else { return nil }
        return AllocationContext(start: hex(allocation.address), usableSize: allocation.usableSize,
                                 used: allocation.isUsed, offset: address - allocation.address,
                                 type: allocation.isUsed ? typeName(at: allocation.address) : nil)
    }

    private func typeName(at start: UInt64) -> String? {
        guard let identifier, let vptr = memory.readU64(start), identifier.modules.contains(vptr) else { return nil }
        if let known = typeNames[vptr] { return known }
        let name = identifier.primaryClass(of: vptr)?.name
        typeNames[vptr] = name
        return name
    }
}
