import ELFCore

extension ModuleSet {
    /// The parts of module load ranges that are not executable: where vtables, typeinfo and
    /// other data a heap word can point to live. Executable segments are cut out because code
    /// pointers (return addresses, function pointers) are never vtable address points.
    public func dataRanges(in addressSpace: AddressSpace) -> [(start: UInt64, end: UInt64)] {
        let code = addressSpace.segments.filter { $0.permissions.contains(.execute) }
        var ranges: [(start: UInt64, end: UInt64)] = []
        for module in modules {
            var cursor = module.start
            for segment in code where segment.end > cursor && segment.start < module.end {
                if segment.start > cursor { ranges.append((cursor, segment.start)) }
                cursor = segment.end
            }
            if cursor < module.end { ranges.append((cursor, module.end)) }
        }
        return ranges
    }
}
