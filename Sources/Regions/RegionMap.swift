import ELFCore

/// Every segment of a core, labelled. Regions are sorted and disjoint.
public struct RegionMap: @unchecked Sendable {
    public let regions: [Region]

    public static let vsyscallAddress: UInt64 = 0xffff_ffff_ff60_0000

    public init(core: CoreFile) {
        let pageSize = core.auxVector?.pageSize.flatMap { $0.nonzeroBitCount == 1 ? $0 : nil } ?? 4096
        let stackOwners = core.threads.map { ($0.stackPointer, $0.tid) }
        let vdso = core.auxVector?.vdsoBase
        let memory = core.addressSpace

        // Module data ends, keyed by the path of each mapping at file offset 0.
        var extents: [String: ModuleExtent] = [:]
        for mapping in core.fileMappings where mapping.fileOffset == 0 && extents[mapping.path] == nil {
            if let extent = ModuleExtent.read(at: mapping.start, path: mapping.path, memory: memory, pageSize: pageSize) {
                extents[mapping.path] = extent
            }
        }

        var regions: [Region] = []
        var previousFile: (path: String, end: UInt64)?
        for segment in memory.segments {
            func region(_ start: UInt64, _ end: UInt64, _ label: RegionLabel, path: String? = nil,
                        bss: Bool = false, thread: Int32? = nil) -> Region {
                let presentEnd = min(segment.presentEnd, end)
                let bytes = presentEnd > start
                    ? segment.view(at: start, count: Int(presentEnd - start))!
                    : UnsafeRawBufferPointer(start: nil, count: 0)
                return Region(segmentIndex: segment.index, start: start, end: end, label: label,
                              permissions: segment.permissions, path: path, isBSS: bss,
                              threadID: thread, bytes: bytes, presence: segment.presence)
            }
            defer {
                if let last = regions.last, last.label == .file, let path = last.path, last.end == segment.end {
                    previousFile = (path, segment.end)
                } else {
                    previousFile = nil
                }
            }
            if segment.start == Self.vsyscallAddress {
                regions.append(region(segment.start, segment.end, .vsyscall))
                continue
            }
            if let vdso, segment.contains(vdso) {
                regions.append(region(segment.start, segment.end, .vdso))
                continue
            }
            if let owner = stackOwners.first(where: { segment.contains($0.0) }) {
                regions.append(region(segment.start, segment.end, .stack, thread: owner.1))
                continue
            }
            if let mapping = core.fileMapping(containing: segment.start) {
                regions.append(region(segment.start, segment.end, .file, path: mapping.path))
                continue
            }
            if segment.permissions.contains(.write), let previous = previousFile, previous.end == segment.start,
               let extent = extents[previous.path], extent.dataEnd > segment.start {
                let bssEnd = min(extent.dataEnd, segment.end)
                regions.append(region(segment.start, bssEnd, .file, path: previous.path, bss: true))
                if bssEnd < segment.end {
                    regions.append(region(bssEnd, segment.end, .heap))
                }
                continue
            }
            let label: RegionLabel = segment.permissions.contains(.write) ? .heap : .other
            regions.append(region(segment.start, segment.end, label))
        }
        self.regions = regions
    }

    /// The region containing `address`, O(log n).
    /// File-backed mappings (modules), sorted: where vtables and other module data can live.
    public var moduleRanges: [Range<UInt64>] {
        regions.filter { $0.label == .file }.map { $0.start..<$0.end }.sorted { $0.lowerBound < $1.lowerBound }
    }

    public func region(containing address: UInt64) -> Region? {
        regions.index(containing: address, start: \.start, end: \.end).map { regions[$0] }
    }

    /// Regions picked by a selection, clipped to its address range.
    public func select(_ selection: RegionSelection) -> [Region] {
        regions.compactMap { region in
            guard selection.labels.contains(region.label) else { return nil }
            guard let range = selection.range else { return region }
            let start = max(region.start, range.start)
            let end = min(region.end, range.end)
            guard start < end else { return nil }
            return region.clipped(to: start, end)
        }
    }
}

extension Region {
    func clipped(to newStart: UInt64, _ newEnd: UInt64) -> Region {
        let presentEnd = min(self.presentEnd, newEnd)
        let bytes = presentEnd > newStart
            ? UnsafeRawBufferPointer(rebasing: self.bytes[Int(newStart - start)..<Int(presentEnd - start)])
            : UnsafeRawBufferPointer(start: nil, count: 0)
        return Region(segmentIndex: segmentIndex, start: newStart, end: newEnd, label: label,
                      permissions: permissions, path: path, isBSS: isBSS, threadID: threadID,
                      bytes: bytes, presence: presence)
    }
}
