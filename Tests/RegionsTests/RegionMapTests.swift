import ELFCore
import Regions
import Testing
import TestFixtures

/// Labels from synthetic cores whose layout is known exactly.
@Suite struct RegionMapTests {
    static let exeBase: UInt64 = 0x5555_5555_4000

    /// A minimal ELF header + one PT_LOAD program header whose memory ends past its file data,
    /// so the module has a .bss beyond its last file-backed page.
    static func moduleHeaderPage(dataVaddr: UInt64, dataMemsz: UInt64) -> [UInt8] {
        var page = [UInt8](repeating: 0, count: 4096)
        page.replaceSubrange(0..<4, with: [0x7f, 0x45, 0x4c, 0x46])
        page[4] = 2
        page.replaceSubrange(32..<40, with: le(UInt64(64)))
        page.replaceSubrange(54..<56, with: le(UInt16(56)))
        page.replaceSubrange(56..<58, with: le(UInt16(2)))
        let loads: [(UInt64, UInt64)] = [(0, 0x1000), (dataVaddr, dataMemsz)]
        for (index, load) in loads.enumerated() {
            let base = 64 + index * 56
            page.replaceSubrange(base..<(base + 4), with: le(UInt32(1)))
            page.replaceSubrange((base + 16)..<(base + 24), with: le(load.0))
            page.replaceSubrange((base + 40)..<(base + 48), with: le(load.1))
        }
        return page
    }

    static func layout() -> SyntheticCore {
        var core = SyntheticCore()
        let page = [UInt8](repeating: 0, count: 4096)
        core.segments = [
            .init(address: exeBase, contents: moduleHeaderPage(dataVaddr: 0x1000, dataMemsz: 0x3000), flags: 4),
            .init(address: exeBase + 0x1000, contents: page, flags: 6),          // .data, file-backed
            .init(address: exeBase + 0x2000, contents: page + page + page, flags: 6), // 2 pages .bss, then brk heap
            .init(address: 0x7f00_0000_0000, contents: page, flags: 6),          // anonymous
            .init(address: 0x7f00_0001_0000, contents: page, flags: 0),          // guard page
            .init(address: 0x7f00_0002_0000, contents: page, flags: 5),          // vdso
            .init(address: 0x7ffe_0000_0000, contents: page + page, flags: 6),   // main stack
            .init(address: 0xffff_ffff_ff60_0000, contents: page, flags: 5),
        ]
        core.fileMappings = [(exeBase, exeBase + 0x1000, 0, "/opt/app/server"),
                             (exeBase + 0x1000, exeBase + 0x2000, 1, "/opt/app/server")]
        core.threads = [.init(tid: 10, stackPointer: 0x7ffe_0000_1f00), .init(tid: 11, stackPointer: 0x7f00_0000_0800)]
        core.auxv = [(6, 4096), (33, 0x7f00_0002_0000)]
        return core
    }

    @Test func labelsEveryKindOfRegion() throws {
        let core = try CoreFile(path: try Self.layout().write())
        let map = RegionMap(core: core)
        let summary = map.regions.map { "\($0.label.rawValue) \(hex($0.start))-\(hex($0.end))" + ($0.isBSS ? " bss" : "") }
        #expect(summary == [
            "file 0x555555554000-0x555555555000",
            "file 0x555555555000-0x555555556000",
            "file 0x555555556000-0x555555558000 bss",
            "heap 0x555555558000-0x555555559000",
            "stack 0x7f0000000000-0x7f0000001000",
            "other 0x7f0000010000-0x7f0000011000",
            "vdso 0x7f0000020000-0x7f0000021000",
            "stack 0x7ffe00000000-0x7ffe00002000",
            "vsyscall 0xffffffffff600000-0xffffffffff601000",
        ])
        #expect(map.regions[2].path == "/opt/app/server")
        #expect(map.regions[4].threadID == 11)
        #expect(map.regions[7].threadID == 10)
        #expect(map.region(containing: Self.exeBase + 0x4800)?.label == .heap)
        #expect(map.region(containing: 0x7f00_0000_f000) == nil)
        // Bytes views follow the split exactly.
        #expect(map.regions[2].bytes.count == 8192)
        #expect(map.regions[3].bytes.count == 4096)
    }

    @Test func selectionClipsToRange() throws {
        let core = try CoreFile(path: try Self.layout().write())
        let map = RegionMap(core: core)
        #expect(map.select(.heapOnly).map(\.start) == [Self.exeBase + 0x4000])
        let labels = try RegionSelection.parseLabels("heap,stack")
        #expect(map.select(RegionSelection(labels: labels)).count == 3)
        let range = try RegionSelection.parseRange("0x555555558800,+0x100")
        let clipped = map.select(RegionSelection(labels: labels, range: range))
        let only = try #require(clipped.first)
        #expect(clipped.count == 1)
        #expect(only.start == 0x5555_5555_8800 && only.end == 0x5555_5555_8900)
        #expect(only.bytes.count == 0x100)
        #expect(map.select(RegionSelection(labels: Set(RegionLabel.allCases))).count == map.regions.count)
    }

    @Test func parsesSelections() throws {
        #expect(try RegionSelection.parseLabels("all") == Set(RegionLabel.allCases))
        #expect(try RegionSelection.parseLabels("Heap, file") == [.heap, .file])
        #expect(throws: RegionSelection.ParseError.self) { try RegionSelection.parseLabels("heapz") }
        #expect(throws: RegionSelection.ParseError.self) { try RegionSelection.parseLabels(",") }
        #expect(try RegionSelection.parseRange("0x1000-0x2000") == (0x1000, 0x2000))
        #expect(try RegionSelection.parseRange("4096,+4096") == (0x1000, 0x2000))
        #expect(throws: RegionSelection.ParseError.self) { try RegionSelection.parseRange("0x2000-0x1000") }
        #expect(throws: RegionSelection.ParseError.self) { try RegionSelection.parseRange("0xffffffffffffffff,+2") }
        #expect(throws: RegionSelection.ParseError.self) { try RegionSelection.parseRange("zz-1") }
    }
}
