import ELFCore

/// The process's memory: the core's bytes, and where the core left memory out, the bytes of
/// the module files whose build-id matches (typeinfo name strings live in such read-only
/// mappings). Every read is bounds-checked and returns nil for memory neither source holds.
public struct ProcessMemory: @unchecked Sendable {
    public let addressSpace: AddressSpace
    /// Sorted by address, one per module with a usable file.
    private let images: [ModuleImage]

    public init(core: CoreFile, modules: ModuleSet) {
        addressSpace = core.addressSpace
        images = modules.modules.compactMap { module in
            // A used file's build-id matched the core's (or the core kept none).
            guard let file = module.file, module.fileUsed else { return nil }
            return ModuleImage(module: module, path: file)
        }
    }

    /// Memory as the core alone holds it.
    public init(addressSpace: AddressSpace) {
        self.addressSpace = addressSpace
        images = []
    }

    /// The longest run of known bytes starting at `address`, at most `count` long.
    public func view(at address: UInt64, upTo count: Int) -> UnsafeRawBufferPointer? {
        guard count > 0 else { return nil }
        if let segment = addressSpace.segment(containing: address), address < segment.presentEnd {
            let available = Int(min(UInt64(count), segment.presentEnd - address))
            return segment.view(at: address, count: available)
        }
        return image(containing: address)?.view(at: address, upTo: count)
    }

    /// True when `address` is readable only because a module file stands in for the core.
    public func isFromModuleFile(_ address: UInt64) -> Bool {
        !addressSpace.isPresent(address) && image(containing: address)?.view(at: address, upTo: 1) != nil
    }

    public func readU64(_ address: UInt64) -> UInt64? {
        if let value = addressSpace.readU64(address) { return value }
        guard let bytes = read(address, count: 8) else { return nil }
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    /// `count` bytes at `address`, gathered across sources and segments; nil if any is unknown.
    public func read(_ address: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(count)
        var cursor = address
        while result.count < count {
            guard let view = view(at: cursor, upTo: count - result.count) else { return nil }
            result.append(contentsOf: view)
            let (next, overflow) = cursor.addingReportingOverflow(UInt64(view.count))
            guard !overflow else { return nil }
            cursor = next
        }
        return result
    }

    /// A NUL-terminated string of at most `maxLength` bytes.
    public func readCString(_ address: UInt64, maxLength: Int = 4096) -> String? {
        var bytes: [UInt8] = []
        var cursor = address
        while bytes.count < maxLength {
            guard let view = view(at: cursor, upTo: maxLength - bytes.count) else { return nil }
            if let terminator = view.firstIndex(of: 0) {
                bytes.append(contentsOf: view[..<terminator])
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.append(contentsOf: view)
            let (next, overflow) = cursor.addingReportingOverflow(UInt64(view.count))
            guard !overflow else { return nil }
            cursor = next
        }
        return nil
    }

    private func image(containing address: UInt64) -> ModuleImage? {
        images.index(containing: address, start: \.module.start, end: \.module.end).map { images[$0] }
    }
}
