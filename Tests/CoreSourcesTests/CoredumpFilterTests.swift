@testable import CoreSources
import Testing

/// The kernel's choice of what a core holds (fs/coredump.c), applied to /proc/PID/smaps text.
@Suite struct CoredumpFilterTests {
    static let smaps = """
        55d0a0000000-55d0a0001000 r--p 00000000 fe:00 1234                       /usr/bin/prog
        Anonymous:             0 kB
        VmFlags: rd mr mw me
        55d0a0001000-55d0a0002000 rw-p 00001000 fe:00 1234                       /usr/bin/prog
        Anonymous:             4 kB
        VmFlags: rd wr mr mw me ac
        55d0a1000000-55d0a1021000 rw-p 00000000 00:00 0                          [heap]
        Anonymous:           132 kB
        VmFlags: rd wr mr mw me ac
        7f0000000000-7f0004000000 ---p 00000000 00:00 0
        Anonymous:             0 kB
        VmFlags: mr mw me nr dd
        7f0010000000-7f0010001000 rw-s 00000000 00:01 99                         /memfd:cache (deleted)
        Anonymous:             0 kB
        VmFlags: rd wr sh mr mw me ms
        7f0020000000-7f0020004000 r--p 00000000 00:00 0                          [vvar]
        VmFlags: rd mr pf io de dd
        7f0020004000-7f0020006000 r-xp 00000000 00:00 0                          [vdso]
        VmFlags: rd ex mr mw me de
        """

    func extents(_ bits: UInt64, elf: Bool = true) -> [CoredumpFilter.Extent] {
        let filter = CoredumpFilter(bits: bits)
        return ProcessMapping.parseSmaps(Self.smaps[...]).map { filter.extent(of: $0) { elf } }
    }

    @Test func parsesEveryMappingWithItsFlags() {
        let mappings = ProcessMapping.parseSmaps(Self.smaps[...])
        #expect(mappings.map(\.name) == ["/usr/bin/prog", "/usr/bin/prog", "[heap]", "", "/memfd:cache (deleted)", "[vvar]", "[vdso]"])
        #expect(mappings.map(\.hasAnonymousPages) == [false, true, true, false, false, false, false])
        #expect(mappings[3].flags.contains("dd"))
        #expect(mappings[4].shared && mappings[1].writable && !mappings[0].writable)
        #expect(mappings[1].fileOffset == 0x1000 && mappings[2].size == 0x21000)
    }

    @Test func kernelDefaultKeepsWrittenMemoryAndElfHeaders() {
        #expect(extents(0x33) == [.firstPage, .whole, .whole, .none, .whole, .none, .whole])
        #expect(extents(0x33, elf: false) == [.none, .whole, .whole, .none, .whole, .none, .whole])
    }

    @Test func filterBitsSelectKinds() {
        // File-backed private mappings whole (0x04), no anonymous shared memory (0x02 off).
        #expect(extents(0x35) == [.whole, .whole, .whole, .none, .none, .none, .whole])
        // Nothing but the vDSO, which the kernel always writes.
        #expect(extents(0) == [.none, .none, .none, .none, .none, .none, .whole])
    }
}
