import ELFCore

/// Everything `heapscan info` shows, gathered from a core and its region map. Codable so the
/// JSON output is this structure, field for field (addresses as "0x…" strings).
public struct CoreSummary: Codable, Sendable {
    public struct Process: Codable, Sendable {
        public var pid: Int32?
        public var command: String?
        public var arguments: String?
        public var executable: String?
        public var signal: Int32?
        public var signalName: String?
        public var faultAddress: String?
    }

    public struct Thread: Codable, Sendable {
        public var tid: Int32
        public var stackPointer: String
        public var programCounter: String
        public var signal: Int16
    }

    public struct SegmentRow: Codable, Sendable {
        public var start: String
        public var end: String
        public var size: UInt64
        public var permissions: String
        public var inCore: UInt64
        public var presence: String
        public var label: String
        public var name: String
        public var path: String?
        public var thread: Int32?
    }

    public struct Totals: Codable, Sendable {
        public var segments: Int
        public var mappedBytes: UInt64
        public var dumpedBytes: UInt64
        public var heapBytes: UInt64
        public var heapBytesInCore: UInt64
        public var fileSize: UInt64
    }

    /// The core file's path, as every command's JSON names it.
    public var core: String
    public var architecture: String
    public var process: Process
    public var threads: [Thread]
    public var regions: [SegmentRow]
    public var totals: Totals
    public var noteCount: Int
    public var fileMappingCount: Int
    public var warnings: [String]

    public init(core: CoreFile, regions map: RegionMap) {
        self.core = core.path
        architecture = core.machine.rawValue
        let execAddress = core.auxVector?.execFileNameAddress
        process = Process(
            pid: core.process?.pid, command: core.process?.command, arguments: core.process?.arguments,
            executable: execAddress.flatMap { core.addressSpace.readCString($0) },
            signal: core.terminatingSignal,
            signalName: core.terminatingSignal.map(SignalInfo.name(of:)),
            faultAddress: core.signalInfo?.faultAddress.map(hex))
        threads = core.threads.map {
            Thread(tid: $0.tid, stackPointer: hex($0.stackPointer), programCounter: hex($0.programCounter),
                   signal: $0.signal)
        }
        regions = map.regions.map { region in
            SegmentRow(start: hex(region.start), end: hex(region.end), size: region.size,
                       permissions: region.permissions.text, inCore: UInt64(region.bytes.count),
                       presence: region.presence.rawValue, label: region.label.rawValue,
                       name: region.displayName, path: region.path, thread: region.threadID)
        }
        var warnings = core.warnings
        for segment in core.segments {
            let range = "[\(hex(segment.start))-\(hex(segment.end)))"
            switch segment.presence {
            case .truncated:
                warnings.append("segment \(segment.index) \(range) is truncated: \(segment.presentSize) of \(segment.memorySize) bytes in the file")
            case .notDumped:
                warnings.append("segment \(segment.index) \(range) is not in the core")
            case .partial:
                warnings.append("segment \(segment.index) \(range) is only partly in the core (\(segment.presentSize) of \(segment.memorySize) bytes)")
            case .complete:
                break
            }
        }
        self.warnings = warnings
        let heap = map.regions.filter { $0.label == .heap }
        totals = Totals(
            segments: core.segments.count,
            mappedBytes: core.segments.reduce(0) { $0 + $1.memorySize },
            dumpedBytes: core.segments.reduce(0) { $0 + $1.presentSize },
            heapBytes: heap.reduce(0) { $0 + $1.size },
            heapBytesInCore: heap.reduce(0) { $0 + UInt64($1.bytes.count) },
            fileSize: UInt64(core.file.bytes.count))
        noteCount = core.notes.count
        fileMappingCount = core.fileMappings.count
    }
}
