import Foundation

/// Writes small ELF64 core files with chosen segments and notes, so tests can cover
/// malformed input that no real program produces. Fields are public so a test can break
/// exactly one thing.
public struct SyntheticCore {
    public struct Segment {
        public var address: UInt64
        public var memorySize: UInt64
        public var contents: [UInt8]
        public var flags: UInt32
        /// Overrides the written p_offset / p_filesz (to lie); nil writes the true values.
        public var offsetOverride: UInt64?
        public var fileSizeOverride: UInt64?

        public init(address: UInt64, contents: [UInt8], memorySize: UInt64? = nil, flags: UInt32 = 6) {
            self.address = address
            self.contents = contents
            self.memorySize = memorySize ?? UInt64(contents.count)
            self.flags = flags
        }
    }

    public struct Thread {
        public var tid: Int32
        public var stackPointer: UInt64
        public var programCounter: UInt64
        public var fsBase: UInt64

        public init(tid: Int32, stackPointer: UInt64, programCounter: UInt64 = 0x401000, fsBase: UInt64 = 0) {
            self.tid = tid
            self.stackPointer = stackPointer
            self.programCounter = programCounter
            self.fsBase = fsBase
        }
    }

    public var machine: UInt16 = 62
    public var elfClass: UInt8 = 2
    public var byteOrder: UInt8 = 1
    public var elfType: UInt16 = 4
    public var segments: [Segment] = []
    public var threads: [Thread] = []
    public var pid: Int32 = 4242
    public var command = "synthetic"
    public var arguments = "synthetic --test"
    /// (start, end, page offset, path)
    public var fileMappings: [(UInt64, UInt64, UInt64, String)] = []
    public var auxv: [(UInt64, UInt64)] = [(6, 4096)]
    /// Extra raw notes appended after the standard ones: (name, type, descriptor).
    public var extraNotes: [(String, UInt32, [UInt8])] = []
    /// Writes e_phnum = PN_XNUM and the real count in section header 0.
    public var useExtendedNumbering = false

    public init() {}

    /// Where `build()` puts the notes and each segment's contents.
    private func layout(notesSize: Int) -> (notes: UInt64, segments: [UInt64]) {
        var cursor: UInt64 = 64 + UInt64(segments.count + 1) * 56
        if useExtendedNumbering { cursor += 64 }
        let notesOffset = cursor
        cursor += UInt64(notesSize)
        var segmentOffsets: [UInt64] = []
        for segment in segments {
            segmentOffsets.append(cursor)
            cursor += UInt64(segment.contents.count)
        }
        return (notesOffset, segmentOffsets)
    }

    public func build() -> [UInt8] {
        let notes = noteBytes()
        let phnum = segments.count + 1
        let phoff: UInt64 = 64
        let shoff: UInt64 = useExtendedNumbering ? phoff + UInt64(phnum) * 56 : 0
        let (notesOffset, segmentOffsets) = layout(notesSize: notes.count)

        var out = [UInt8]()
        out += [0x7f, 0x45, 0x4c, 0x46, elfClass, byteOrder, 1, 0] + [UInt8](repeating: 0, count: 8)
        out += le(elfType) + le(machine) + le(UInt32(1)) + le(UInt64(0)) + le(phoff) + le(shoff)
        out += le(UInt32(0)) + le(UInt16(64)) + le(UInt16(56))
        out += le(useExtendedNumbering ? UInt16(0xffff) : UInt16(phnum))
        out += le(UInt16(64)) + le(UInt16(useExtendedNumbering ? 1 : 0)) + le(UInt16(0))

        out += phdr(type: 4, flags: 4, offset: notesOffset, vaddr: 0, filesz: UInt64(notes.count), memsz: 0)
        for (index, segment) in segments.enumerated() {
            out += phdr(type: 1, flags: segment.flags,
                        offset: segment.offsetOverride ?? segmentOffsets[index], vaddr: segment.address,
                        filesz: segment.fileSizeOverride ?? UInt64(segment.contents.count),
                        memsz: segment.memorySize)
        }
        if useExtendedNumbering {
            var section = [UInt8](repeating: 0, count: 64)
            let count = le(UInt32(phnum))
            section.replaceSubrange(44..<48, with: count)
            out += section
        }
        out += notes
        for segment in segments { out += segment.contents }
        return out
    }

    /// Makes every all-zero stretch of the segments take no file bytes: each becomes a segment
    /// (at most `blockSize`) whose p_offset points at one shared block of zeros, held by a
    /// read-only segment at `zeroBlockAddress`. The process image stays the same; a core of
    /// mostly empty 2 MiB extent-map levels shrinks from megabytes to kilobytes, which is what
    /// a fuzzer writing one input per execution needs. Pages holding an address of `keeping`
    /// keep bytes of their own, so an edit there stays one edit.
    public mutating func shareZeroPages(keeping: [UInt64] = [], blockSize: Int = 64 << 10,
                                        zeroBlockAddress: UInt64 = 0x7ff0_0000_0000) {
        let page = 4096
        var rewritten: [Segment] = []
        var aliases: [Int] = []
        for segment in segments {
            let bytes = segment.contents
            guard segment.offsetOverride == nil, segment.fileSizeOverride == nil,
                  UInt64(bytes.count) == segment.memorySize, segment.address % UInt64(page) == 0 else {
                rewritten.append(segment)
                continue
            }
            func isShared(_ start: Int) -> Bool {
                let pageAddress = segment.address + UInt64(start)
                guard !keeping.contains(where: { $0 >= pageAddress && $0 < pageAddress + UInt64(page) }) else { return false }
                return bytes[start..<min(start + page, bytes.count)].allSatisfy { $0 == 0 }
            }
            var start = 0
            while start < bytes.count {
                let shared = isShared(start)
                var end = start + page
                while end < bytes.count, isShared(end) == shared, !shared || end - start < blockSize { end += page }
                end = min(end, bytes.count)
                if shared {
                    var alias = Segment(address: segment.address + UInt64(start), contents: [],
                                        memorySize: UInt64(end - start), flags: segment.flags)
                    alias.fileSizeOverride = UInt64(end - start)
                    aliases.append(rewritten.count)
                    rewritten.append(alias)
                } else {
                    rewritten.append(Segment(address: segment.address + UInt64(start),
                                             contents: Array(bytes[start..<end]), flags: segment.flags))
                }
                start = end
            }
        }
        guard !aliases.isEmpty else { return }
        rewritten.append(Segment(address: zeroBlockAddress, contents: [UInt8](repeating: 0, count: blockSize), flags: 4))
        segments = rewritten
        let zeroOffset = layout(notesSize: noteBytes().count).segments[segments.count - 1]
        for index in aliases { segments[index].offsetOverride = zeroOffset }
    }

    /// Writes the core to a fresh temporary file and returns its path.
    public func write(name: String = "synthetic") throws -> String {
        try Self.writeTemporary(build(), name: name)
    }

    public static func writeTemporary(_ bytes: [UInt8], name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-tests")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(name)-\(UUID().uuidString).core")
        try Data(bytes).write(to: url)
        return url.path
    }

    private func noteBytes() -> [UInt8] {
        var out: [UInt8] = []
        var psinfo = [UInt8](repeating: 0, count: 136)
        psinfo[1] = UInt8(ascii: "T")
        psinfo.replaceSubrange(24..<28, with: le(pid))
        put(command, into: &psinfo, at: 40, length: 16)
        put(arguments, into: &psinfo, at: 56, length: 80)
        out += Self.note(name: "CORE", type: 3, psinfo)
        for thread in threads {
            var status = [UInt8](repeating: 0, count: 336)
            status.replaceSubrange(32..<36, with: le(thread.tid))
            let registers: [(Int, UInt64)] = [(16, thread.programCounter), (19, thread.stackPointer), (21, thread.fsBase)]
            for (index, value) in registers {
                status.replaceSubrange((112 + index * 8)..<(120 + index * 8), with: le(value))
            }
            out += Self.note(name: "CORE", type: 1, status)
        }
        if !auxv.isEmpty {
            var vector: [UInt8] = []
            for (type, value) in auxv { vector += le(type) + le(value) }
            vector += le(UInt64(0)) + le(UInt64(0))
            out += Self.note(name: "CORE", type: 6, vector)
        }
        if !fileMappings.isEmpty {
            var table = le(UInt64(fileMappings.count)) + le(UInt64(4096))
            for mapping in fileMappings { table += le(mapping.0) + le(mapping.1) + le(mapping.2) }
            for mapping in fileMappings { table += Array(mapping.3.utf8) + [0] }
            out += Self.note(name: "CORE", type: 0x4649_4c45, table)
        }
        for (name, type, descriptor) in extraNotes { out += Self.note(name: name, type: type, descriptor) }
        return out
    }

    /// One note record with 4-byte padding, as Linux writes them.
    public static func note(name: String, type: UInt32, _ descriptor: [UInt8]) -> [UInt8] {
        let nameBytes = Array(name.utf8) + [0]
        var out = le(UInt32(nameBytes.count)) + le(UInt32(descriptor.count)) + le(type)
        out += nameBytes + [UInt8](repeating: 0, count: (4 - nameBytes.count % 4) % 4)
        out += descriptor + [UInt8](repeating: 0, count: (4 - descriptor.count % 4) % 4)
        return out
    }

    private func phdr(type: UInt32, flags: UInt32, offset: UInt64, vaddr: UInt64, filesz: UInt64, memsz: UInt64) -> [UInt8] {
        le(type) + le(flags) + le(offset) + le(vaddr) + le(UInt64(0)) + le(filesz) + le(memsz) + le(UInt64(1))
    }

    private func put(_ text: String, into buffer: inout [UInt8], at offset: Int, length: Int) {
        for (index, byte) in text.utf8.prefix(length - 1).enumerated() { buffer[offset + index] = byte }
    }
}

/// Little-endian bytes of an integer.
public func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// Bytes of a sequence of 64-bit words, for building segment contents.
public func words64(_ values: [UInt64]) -> [UInt8] { values.flatMap { le($0) } }
