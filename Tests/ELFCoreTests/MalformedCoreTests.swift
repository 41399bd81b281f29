import ELFCore
import Testing
import TestFixtures

/// Bad input never crashes: every malformed core is a typed error or a warning.
@Suite struct MalformedCoreTests {
    func open(_ bytes: [UInt8]) throws -> CoreFile {
        try CoreFile(path: try SyntheticCore.writeTemporary(bytes, name: "malformed"))
    }

    func expectError(_ bytes: [UInt8], _ check: (CoreError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try open(bytes)
            Issue.record("expected an error", sourceLocation: sourceLocation)
        } catch let error as CoreError {
            #expect(check(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
            #expect(!error.description.isEmpty)
        } catch {
            Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func rejectsWrongKindsOfFile() throws {
        expectError([], { $0 == .notELF })
        expectError(Array("hello world, this is not an ELF file at all.".utf8), { $0 == .notELF })
        var synthetic = SyntheticCoreTests.sample()
        synthetic.elfClass = 1
        expectError(synthetic.build(), { $0 == .unsupportedClass(1) })
        synthetic = SyntheticCoreTests.sample()
        synthetic.byteOrder = 2
        expectError(synthetic.build(), { $0 == .unsupportedByteOrder(2) })
        synthetic = SyntheticCoreTests.sample()
        synthetic.elfType = 2
        expectError(synthetic.build(), { $0 == .notACore(elfType: 2) })
        synthetic = SyntheticCoreTests.sample()
        synthetic.machine = 40
        expectError(synthetic.build(), { $0 == .unsupportedMachine(40) })
    }

    @Test func truncatedAtEveryBoundary() throws {
        let bytes = SyntheticCoreTests.sample().build()
        // Every prefix either fails cleanly or parses with what is there; none may trap.
        for length in stride(from: 0, through: bytes.count, by: 1) {
            do {
                let core = try open(Array(bytes[0..<length]))
                for segment in core.segments {
                    #expect(segment.presentSize <= segment.memorySize)
                    if segment.presence == .truncated { #expect(segment.presentSize < segment.declaredFileSize) }
                }
                _ = core.addressSpace.readU64(SyntheticCoreTests.heapAddress)
            } catch is CoreError {
                continue
            }
        }
        // Cut in the middle of the program header table: a clear truncation error.
        expectError(Array(bytes[0..<100]), {
            if case .truncated = $0 { return true } else { return false }
        })
    }

    @Test func truncatedSegmentKeepsItsPrefix() throws {
        let bytes = SyntheticCoreTests.sample().build()
        let core = try open(Array(bytes.dropLast(20)))
        let stack = try #require(core.segments.last)
        #expect(stack.presence == .truncated)
        #expect(stack.presentSize == 12)
        #expect(core.addressSpace.readU64(SyntheticCoreTests.stackAddress) == 1)
        #expect(core.addressSpace.readU64(SyntheticCoreTests.stackAddress + 16) == nil)
    }

    @Test func lyingSizesAndOffsets() throws {
        var synthetic = SyntheticCoreTests.sample()
        synthetic.segments[0].offsetOverride = UInt64.max - 4
        synthetic.segments[1].fileSizeOverride = UInt64.max
        synthetic.segments[2].memorySize = UInt64.max
        let core = try open(synthetic.build())
        #expect(core.segments.count == 2, "the wrapping segment is dropped")
        #expect(core.segments[0].presence == .truncated)
        #expect(core.segments[0].presentSize == 0)
        #expect(core.warnings.contains { $0.contains("wraps") })
    }

    @Test func hugeMemorySizeIsNotAllocated() throws {
        var synthetic = SyntheticCore()
        synthetic.segments = [.init(address: 0x1000, contents: words64([1]), memorySize: 1 << 46)]
        let core = try open(synthetic.build())
        #expect(core.segments[0].memorySize == 1 << 46)
        #expect(core.segments[0].presence == .partial)
        #expect(core.addressSpace.readU64(0x1000 + (1 << 40)) == nil)
    }

    @Test func phdrTablePastEndOfFile() throws {
        var bytes = SyntheticCoreTests.sample().build()
        bytes.replaceSubrange(32..<40, with: le(UInt64(1 << 40)))
        expectError(bytes, { if case .truncated = $0 { return true } else { return false } })
        bytes.replaceSubrange(32..<40, with: le(UInt64.max - 10))
        expectError(bytes, { if case .malformed = $0 { return true } else { return false } })
    }

    @Test func badProgramHeaderEntrySize() throws {
        var bytes = SyntheticCoreTests.sample().build()
        bytes.replaceSubrange(54..<56, with: le(UInt16(32)))
        expectError(bytes, { if case .malformed = $0 { return true } else { return false } })
    }

    @Test func extendedNumberingWithoutSectionHeader() throws {
        var bytes = SyntheticCoreTests.sample().build()
        bytes.replaceSubrange(56..<58, with: le(UInt16(0xffff)))
        expectError(bytes, { if case .malformed = $0 { return true } else { return false } })
        bytes.replaceSubrange(40..<48, with: le(UInt64(bytes.count - 8)))
        expectError(bytes, { if case .truncated = $0 { return true } else { return false } })
    }

    @Test func noteSizesThatOverflow() throws {
        var synthetic = SyntheticCoreTests.sample()
        var lying = SyntheticCore.note(name: "CORE", type: 1, [UInt8](repeating: 0, count: 8))
        lying.replaceSubrange(4..<8, with: le(UInt32.max))
        synthetic.extraNotes = []
        var bytes = synthetic.build()
        // Replace the NT_PRPSINFO note's descriptor size with a huge one.
        let noteOffset = Int(bytes[8 + 64..<16 + 64].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        bytes.replaceSubrange((noteOffset + 4)..<(noteOffset + 8), with: le(UInt32.max))
        let core = try open(bytes)
        #expect(core.process == nil)
        #expect(core.threads.isEmpty)
        #expect(core.warnings.contains { $0.contains("claims") })
        _ = lying
    }

    @Test func badFileNote() throws {
        var synthetic = SyntheticCoreTests.sample()
        synthetic.fileMappings = []
        synthetic.extraNotes = [("CORE", 0x4649_4c45, le(UInt64.max) + le(UInt64(4096)))]
        let core = try open(synthetic.build())
        #expect(core.fileMappings.isEmpty)
        #expect(core.warnings.contains { $0.contains("NT_FILE") })
    }

    @Test func zeroSegmentsAndOverlaps() throws {
        var synthetic = SyntheticCoreTests.sample()
        synthetic.segments = []
        #expect(try open(synthetic.build()).segments.isEmpty)
        synthetic.segments = [
            .init(address: 0x1000, contents: words64([1, 2, 3, 4])),
            .init(address: 0x1010, contents: words64([9, 9])),
        ]
        let core = try open(synthetic.build())
        #expect(core.segments.count == 1)
        #expect(core.warnings.contains { $0.contains("overlaps") })
        #expect(core.addressSpace.readU64(0x1010) == 3)
    }
}
