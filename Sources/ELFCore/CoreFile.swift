/// A parsed, validated ELF core. Construction never traps on bad input: it throws a
/// `CoreError` for what makes the file unusable and collects `warnings` for what only
/// makes part of it unusable.
public final class CoreFile: @unchecked Sendable {
    public let path: String
    public let file: MappedFile
    public let header: ELFHeader
    public var machine: Machine { header.machine }
    public let programHeaders: [ProgramHeader]
    public let addressSpace: AddressSpace
    public let notes: [Note]
    public let threads: [ThreadState]
    public let process: ProcessInfo?
    public let fileMappings: [FileMapping]
    public let auxVector: AuxVector?
    public let signalInfo: SignalInfo?
    public private(set) var warnings: [String] = []
    /// True when a note segment ends past the end of the file or a note in it is cut: gdb and
    /// the kernel write notes first or last, so a core cut short loses threads (NT_PRSTATUS),
    /// NT_FILE and the auxiliary vector while its memory may be all there.
    public let notesCutShort: Bool

    public var segments: [Segment] { addressSpace.segments }

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.path = file.path
        self.file = file
        let reader = ByteReader(file.bytes)
        header = try ELFHeader(reader)
        var warnings: [String] = file.sourceWarnings

        var headers: [ProgramHeader] = []
        headers.reserveCapacity(Int(header.programHeaderCount))
        for index in 0..<header.programHeaderCount {
            // ELFHeader validated that the whole table lies inside the file.
            guard let entry = ProgramHeader(reader, at: header.programHeaderOffset + index * 56) else {
                throw CoreError.malformed("program header \(index) unreadable")
            }
            headers.append(entry)
        }
        programHeaders = headers

        var segments: [Segment] = []
        var notes: [Note] = []
        var notesCutShort = false
        for (index, entry) in headers.enumerated() {
            switch entry.type {
            case ProgramHeader.ptLoad:
                if let segment = Self.makeSegment(entry, index: index, reader: reader, warnings: &warnings) {
                    segments.append(segment)
                }
            case ProgramHeader.ptNote:
                let (available, shortfall) = Self.clip(entry.offset, entry.fileSize, to: reader.count)
                if shortfall {
                    notesCutShort = true
                    warnings.append("note segment \(index) extends past the end of the file; reading what is there")
                }
                guard let payload = reader.slice(entry.offset, available) else { continue }
                let (parsed, problem) = Note.parse(payload)
                notes.append(contentsOf: parsed)
                if let problem {
                    notesCutShort = true
                    warnings.append(problem)
                }
            default:
                continue
            }
        }
        segments.sort { $0.start < $1.start }
        var disjoint: [Segment] = []
        for segment in segments {
            if let previous = disjoint.last, segment.start < previous.end {
                warnings.append("segment \(segment.index) [\(hex(segment.start))-\(hex(segment.end))) overlaps segment \(previous.index); ignored")
                continue
            }
            disjoint.append(segment)
        }
        addressSpace = AddressSpace(segments: disjoint, owner: file)
        self.notes = notes
        self.notesCutShort = notesCutShort

        var threads: [ThreadState] = []
        var process: ProcessInfo?
        var mappings: [FileMapping] = []
        var auxVector: AuxVector?
        var signalInfo: SignalInfo?
        for note in notes where note.name == "CORE" {
            switch note.type {
            case Note.ntPRStatus:
                if let thread = ThreadState(note.descriptor, machine: header.machine) {
                    threads.append(thread)
                } else {
                    warnings.append("NT_PRSTATUS note of \(note.descriptor.count) bytes is too short")
                }
            case Note.ntPRPSInfo:
                process = ProcessInfo(note.descriptor)
                if process == nil { warnings.append("NT_PRPSINFO note is too short") }
            case Note.ntFile:
                let (parsed, problem) = FileMapping.parse(note.descriptor)
                mappings = parsed
                if let problem { warnings.append(problem) }
            case Note.ntAuxv:
                auxVector = AuxVector(note.descriptor)
            case Note.ntSigInfo:
                signalInfo = SignalInfo(note.descriptor)
            default:
                continue
            }
        }
        self.threads = threads
        self.process = process
        self.fileMappings = mappings.sorted { $0.start < $1.start }
        self.auxVector = auxVector
        self.signalInfo = signalInfo
        if threads.isEmpty { warnings.append("no NT_PRSTATUS notes: thread registers unknown") }
        self.warnings = warnings
    }

    /// True when some thread's thread pointer is unknown: notes cut short, no thread at all, or a
    /// thread without one. Allocator caches that live in TLS (glibc's tcache, jemalloc's
    /// thread cache) must then be looked for without thread pointers too.
    public var threadPointersMayBeMissing: Bool {
        notesCutShort || threads.isEmpty || threads.contains { $0.threadPointer == nil }
    }

    /// The file mapping (from NT_FILE) containing `address`.
    public func fileMapping(containing address: UInt64) -> FileMapping? {
        fileMappings.index(containing: address, start: \.start, end: \.end).map { fileMappings[$0] }
    }

    /// The signal that ended the process: NT_SIGINFO when present, else the first thread's.
    public var terminatingSignal: Int32? {
        if let signalInfo { return signalInfo.signal }
        return threads.first.map { Int32($0.signal) }
    }

    private static func clip(_ offset: UInt64, _ size: UInt64, to fileSize: Int) -> (UInt64, Bool) {
        let fileSize = UInt64(fileSize)
        guard offset < fileSize else { return (0, size > 0) }
        let room = fileSize - offset
        return size <= room ? (size, false) : (room, true)
    }

    private static func makeSegment(_ entry: ProgramHeader, index: Int, reader: ByteReader,
                                    warnings: inout [String]) -> Segment? {
        let (end, overflow) = entry.virtualAddress.addingReportingOverflow(entry.memorySize)
        guard !overflow else {
            warnings.append("segment \(index) at \(hex(entry.virtualAddress)) has a size that wraps the address space; ignored")
            return nil
        }
        guard entry.memorySize > 0 else { return nil }
        if entry.fileSize > entry.memorySize {
            warnings.append("segment \(index) at \(hex(entry.virtualAddress)) claims more file bytes than memory; using the memory size")
        }
        let wanted = min(entry.fileSize, entry.memorySize)
        let (available, shortfall) = clip(entry.offset, wanted, to: reader.count)
        let presence: Presence
        if shortfall {
            presence = .truncated
        } else if wanted == 0 {
            presence = .notDumped
        } else if wanted < entry.memorySize {
            presence = .partial
        } else {
            presence = .complete
        }
        let view = available > 0 ? reader.slice(entry.offset, available)!.bytes
                                  : UnsafeRawBufferPointer(start: nil, count: 0)
        return Segment(index: index, start: entry.virtualAddress, end: end,
                       permissions: Permissions(rawValue: entry.flags & 7),
                       fileOffset: entry.offset, declaredFileSize: entry.fileSize,
                       bytes: view, presence: presence)
    }
}

/// `0x…` lowercase, the form every output of the project uses for addresses.
public func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
