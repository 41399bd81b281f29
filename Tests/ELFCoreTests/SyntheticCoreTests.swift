import ELFCore
import Testing
import TestFixtures

/// Parsing of well-formed synthetic cores: every field lands where the reader says.
@Suite struct SyntheticCoreTests {
    static let heapAddress: UInt64 = 0x5555_0000_0000
    static let stackAddress: UInt64 = 0x7ffd_0000_0000

    static func sample() -> SyntheticCore {
        var core = SyntheticCore()
        core.segments = [
            .init(address: heapAddress, contents: words64([0x1122_3344_5566_7788, 0xdead_beef, 7, 0])),
            .init(address: heapAddress + 32, contents: words64([0xaaaa, 0xbbbb])),
            .init(address: stackAddress, contents: words64([1, 2, 3, 4])),
        ]
        core.threads = [.init(tid: 101, stackPointer: stackAddress + 8), .init(tid: 102, stackPointer: 0x1000)]
        core.fileMappings = [(0x40_0000, 0x40_1000, 0, "/usr/bin/example")]
        core.auxv = [(6, 4096), (9, 0x40_1234)]
        return core
    }

    @Test func parsesProcessThreadsAndNotes() throws {
        let core = try CoreFile(path: try Self.sample().write())
        #expect(core.machine == .x86_64)
        #expect(core.process?.pid == 4242)
        #expect(core.process?.command == "synthetic")
        #expect(core.process?.arguments == "synthetic --test")
        #expect(core.threads.map(\.tid) == [101, 102])
        #expect(core.threads[0].stackPointer == Self.stackAddress + 8)
        #expect(core.threads[0].programCounter == 0x401000)
        #expect(core.fileMappings == [FileMapping(start: 0x40_0000, end: 0x40_1000, fileOffset: 0, path: "/usr/bin/example")])
        #expect(core.auxVector?.entryPoint == 0x40_1234)
        #expect(core.auxVector?.pageSize == 4096)
        #expect(core.segments.count == 3)
        #expect(core.warnings.isEmpty)
    }

    @Test func readsAcrossAdjacentSegments() throws {
        let memory = try CoreFile(path: try Self.sample().write()).addressSpace
        #expect(memory.readU64(Self.heapAddress) == 0x1122_3344_5566_7788)
        #expect(memory.readU32(Self.heapAddress + 1) == 0x4455_6677)
        #expect(memory.readU8(Self.heapAddress) == 0x88)
        #expect(memory.readU16(Self.heapAddress + 6) == 0x1122)
        // The last word of the first segment and the first of the second, read as one range.
        let bytes = memory.read(Self.heapAddress + 28, count: 8)
        #expect(bytes == [0, 0, 0, 0, 0xaa, 0xaa, 0, 0])
        #expect(memory.readU64(Self.heapAddress + 28) == 0x0000_aaaa_0000_0000)
        // A gap between segments is not in the core.
        #expect(memory.readU64(Self.heapAddress + 48) == nil)
        #expect(memory.read(Self.heapAddress + 40, count: 16) == nil)
        #expect(memory.readU64(0x10) == nil)
        #expect(memory.segmentIndex(containing: Self.stackAddress + 31) == 2)
        #expect(memory.segmentIndex(containing: Self.stackAddress + 32) == nil)
    }

    @Test func partialAndEmptySegmentsAreNotInCore() throws {
        var synthetic = SyntheticCore()
        synthetic.segments = [
            .init(address: 0x1000, contents: words64([5, 6]), memorySize: 0x1000),
            .init(address: 0x3000, contents: [], memorySize: 0x2000, flags: 4),
        ]
        let core = try CoreFile(path: try synthetic.write())
        #expect(core.segments.map(\.presence) == [.partial, .notDumped])
        #expect(core.addressSpace.readU64(0x1008) == 6)
        #expect(core.addressSpace.readU64(0x1010) == nil, "bytes past p_filesz are absent, not zero")
        #expect(core.addressSpace.readU8(0x3000) == nil)
        #expect(core.addressSpace.isPresent(0x1000))
        #expect(!core.addressSpace.isPresent(0x3000))
    }

    @Test func extendedProgramHeaderNumbering() throws {
        var synthetic = Self.sample()
        synthetic.useExtendedNumbering = true
        let core = try CoreFile(path: try synthetic.write())
        #expect(core.header.programHeaderCount == 4)
        #expect(core.segments.count == 3)
        #expect(core.threads.count == 2)
    }

    @Test func aarch64Registers() throws {
        var synthetic = SyntheticCore()
        synthetic.machine = 183
        var status = [UInt8](repeating: 0, count: 392)
        status.replaceSubrange(32..<36, with: le(Int32(77)))
        status.replaceSubrange((112 + 31 * 8)..<(112 + 32 * 8), with: le(UInt64(0x7fff_0000)))
        status.replaceSubrange((112 + 32 * 8)..<(112 + 33 * 8), with: le(UInt64(0x40_0abc)))
        synthetic.extraNotes = [("CORE", 1, status)]
        let core = try CoreFile(path: try synthetic.write())
        #expect(core.machine == .aarch64)
        #expect(core.threads.first?.tid == 77)
        #expect(core.threads.first?.stackPointer == 0x7fff_0000)
        #expect(core.threads.first?.programCounter == 0x40_0abc)
    }

    @Test func signalInfoNote() throws {
        var synthetic = Self.sample()
        var info = [UInt8](repeating: 0, count: 128)
        info.replaceSubrange(0..<4, with: le(Int32(11)))
        info.replaceSubrange(16..<24, with: le(UInt64(0xdead_0000)))
        synthetic.extraNotes = [("CORE", 0x5349_4749, info)]
        let core = try CoreFile(path: try synthetic.write())
        #expect(core.signalInfo?.signal == 11)
        #expect(core.signalInfo?.faultAddress == 0xdead_0000)
        #expect(core.terminatingSignal == 11)
        #expect(SignalInfo.name(of: 11) == "SIGSEGV")
    }
}
