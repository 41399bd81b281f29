import Allocators
import ELFCore
import Foundation
import Testing
import TestFixtures

/// jemalloc 5.1/5.2 without a version string: recognised by the shape of its extent headers
/// and refused, never walked with the 5.3 layout.
struct JemallocOlderLayoutTests {
    @Test func extentHeadersOfVersion52AreRecognisedAndRefused() throws {
        let base: UInt64 = 0x7f00_0000_0000
        var memory = [UInt8](repeating: 0, count: 0x10000)
        func put(_ value: UInt64, at offset: Int) { memory.replaceSubrange(offset..<(offset + 8), with: le(value)) }
        for index in 0..<16 {
            let edata = base + 0x1000 + UInt64(index) * 128
            // 5.2 extent_t: slab at bit 12, szind 5 at bits 18–25, state active (0) at 16–17.
            put(1 << 12 | 5 << 18, at: 0x1000 + index * 128)
            put(0x7f00_1000_0000 + UInt64(index) * 4096, at: 0x1000 + index * 128 + 8)
            put(4096, at: 0x1000 + index * 128 + 16)
            // 5.2 leaf entry: szind << 48 | extent | slab.
            put(5 << 48 | edata | 1, at: 0x8000 + index * 8)
        }
        var synthetic = SyntheticCore()
        synthetic.segments = [.init(address: 0x7f00_0000_0000 - 0x1000, contents: [UInt8](repeating: 0, count: 0x1000), flags: 4),
                              .init(address: base, contents: memory)]
        synthetic.fileMappings = [(base - 0x1000, base, 0, "/nonexistent/libjemalloc.so.2")]
        synthetic.threads = [.init(tid: 1, stackPointer: base + 0x100)]
        let path = try synthetic.write(name: "jemalloc52")
        defer { try? FileManager.default.removeItem(atPath: path) }

        let core = try CoreFile(path: path)
        let detection = try #require(JemallocDetection.detect(in: core))
        #expect(detection.version == nil)
        #expect {
            _ = try JemallocHeap.read(core: core, detection: detection)
        } throws: { error in
            guard let error = error as? JemallocError, case .unsupportedLayout = error else { return false }
            return error.description.contains("unsupported jemalloc layout") && error.description.contains("5.1/5.2")
        }
    }
}
