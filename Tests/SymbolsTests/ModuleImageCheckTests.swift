import ELFCore
@testable import Symbols
import Testing
import TestFixtures

/// In-core module images are checked before libelf and libdw see them: headers that describe
/// bytes outside the image (or an image that is the core's own header) are refused.
struct ModuleImageCheckTests {
    /// A shared object's header with one PT_LOAD and two section headers, all inside 4 KiB.
    static func image(type: UInt16 = 3, phoff: UInt64 = 64, shoff: UInt64 = 0x800, loadSize: UInt64 = 0x1000,
                      sectionOffset: UInt64 = 0x100, sectionSize: UInt64 = 0x100) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x1000)
        func put(_ value: [UInt8], _ offset: Int) { bytes.replaceSubrange(offset..<(offset + value.count), with: value) }
        put([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0)
        put(le(type), 16)
        put(le(UInt16(62)), 18)
        put(le(phoff), 32)
        put(le(shoff), 40)
        put(le(UInt16(56)), 54)
        put(le(UInt16(1)), 56)
        put(le(UInt16(64)), 58)
        put(le(UInt16(2)), 60)
        put(le(UInt16(1)), 62)
        if phoff < 0x1000 - 56 {
            put(le(UInt32(1)), Int(phoff))
            put(le(UInt64(0)), Int(phoff) + 8)
            put(le(loadSize), Int(phoff) + 32)
        }
        if shoff < 0x1000 - 128 {
            put(le(UInt32(3)), Int(shoff) + 64 + 4)
            put(le(sectionOffset), Int(shoff) + 64 + 24)
            put(le(sectionSize), Int(shoff) + 64 + 32)
        }
        return bytes
    }

    static func problem(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { ModuleImageCheck.problem(in: ByteReader($0), machine: 62) }
    }

    @Test func soundImageIsUsed() {
        #expect(Self.problem(Self.image()) == nil)
    }

    @Test func damagedImagesAreRefused() {
        #expect(Self.problem(Self.image(type: 4))?.contains("not an executable") == true)
        #expect(Self.problem(Self.image(phoff: UInt64.max - 8))?.contains("program headers") == true)
        #expect(Self.problem(Self.image(loadSize: 0x10_0000))?.contains("program header 0") == true)
        #expect(Self.problem(Self.image(shoff: 0xff0))?.contains("section headers") == true)
        #expect(Self.problem(Array(Self.image().prefix(40)))?.contains("cut short") == true)
    }
}
