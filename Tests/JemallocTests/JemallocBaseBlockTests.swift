@testable import Allocators
import ELFCore
import Foundation
import Testing
import TestFixtures

/// jemalloc's metadata blocks are recognised by their header alone: size and next block, then an
/// `edata_t` whose unused tail ends exactly at the block's end.
struct JemallocBaseBlockTests {
    static let start: UInt64 = 0x7f00_0040_0000

    /// A 2 MiB block at `start` whose header says `tail` bytes are used and the rest is free.
    static func core(used: UInt64, tailSizeSkew: UInt64 = 0) throws -> CoreFile {
        var bytes = [UInt8](repeating: 0, count: 4096)
        func put(_ value: UInt64, _ offset: Int) { bytes.replaceSubrange(offset..<(offset + 8), with: le(value)) }
        let size: UInt64 = 2 << 20
        put(size, 0)
        put(0, 8)
        put(0x0e80_afff, 16)
        put(start + used, 24)
        put(size - used + tailSizeSkew, 32)
        var synthetic = SyntheticCore()
        synthetic.segments = [SyntheticCore.Segment(address: start, contents: bytes, memorySize: size)]
        let path = try synthetic.write(name: "jemalloc-base-\(used)-\(tailSizeSkew)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try CoreFile(path: path)
    }

    @Test func aBlockHeaderNamesItsUsedPart() throws {
        let blocks = JemallocBaseBlocks.find(in: try Self.core(used: 0x1_2340).addressSpace)
        #expect(blocks == [Self.start..<(Self.start + 0x1_2340)])
    }

    @Test func aTailThatDoesNotEndAtTheBlocksEndIsNoBlock() throws {
        #expect(JemallocBaseBlocks.find(in: try Self.core(used: 0x1_2340, tailSizeSkew: 8).addressSpace).isEmpty)
        #expect(JemallocBaseBlocks.find(in: try Self.core(used: 8).addressSpace).isEmpty, "a tail inside the header")
    }

    @Test func aHeaderOverAnExtentIsProgramData() throws {
        let core = try Self.core(used: 0x1_2340)
        let extent = JemallocExtent(edata: 0, arena: 0, state: .active, isSlab: false, sizeIndex: 40, base: Self.start + 0x1000,
                                    address: Self.start + 0x1000, size: 0x5000, freeCount: 0, freeBitmap: [])
        #expect(JemallocBaseBlocks.find(in: core.addressSpace, outside: [extent]).isEmpty)
        #expect(JemallocBaseBlocks.find(in: core.addressSpace, outside: []).count == 1)
    }
}
