@testable import Allocators
import Testing
import TestFixtures

/// The encodings measured on jemalloc 5.3.0, decoded from values seen in a real core.
struct JemallocDecodingTests {
    @Test func leafEntryAndEdataBitsOfASlab() {
        let entry = LeafEntry(raw: 0x2_7f24_37a8_4881)
        #expect(entry.sizeIndex == 2)
        #expect(entry.edata == 0x7f24_37a8_4880)
        #expect(entry.isSlab)
        #expect(entry.state == 0)
        let bits = EdataBits(raw: 0x1_c020_b000)
        #expect(bits.arena == 0)
        #expect(bits.isSlab)
        #expect(bits.sizeIndex == 2)
        #expect(bits.freeCount == 28)
        #expect(bits.state == 0)
        #expect(bits.agrees(with: entry))
        #expect(!bits.agrees(with: LeafEntry(raw: 0x3_7f24_37a8_4881)))
    }

    @Test func freedExtentsAgreeOnStateOnly() {
        // A freed 12 KiB slab: the map keeps class 34 and the slab bit, e_bits says "no class".
        let entry = LeafEntry(raw: 0x22_7f24_3601_6885)
        let bits = EdataBits(raw: 0x1e82_3003)
        #expect(entry.state == 1)
        #expect(bits.state == 1)
        #expect(bits.agrees(with: entry))
    }

    @Test func versionStringIsFoundInReadOnlyData() {
        let text = "\0junk-g123\0" + "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c\0tail"
        let bytes = Array(text.utf8)
        let found = bytes.withUnsafeBytes { VersionString.find(in: $0) }
        #expect(found == "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c")
        let none = Array("5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90\0".utf8).withUnsafeBytes { VersionString.find(in: $0) }
        #expect(none == nil)
        let detection = JemallocDetection(version: found, libraryPath: nil, moduleRanges: [])
        #expect(detection.allocatorName == "jemalloc 5.3.0")
        #expect(detection.majorMinor! == (5, 3))
    }

    @Test func leafScanFindsEntriesAndSkipsPointersAndText() {
        var words = [UInt64](repeating: 0, count: 200)
        words[3] = 0x2_7f24_37a8_4881          // slab entry, class 2
        words[40] = 0x7f24_37a8_4881 & ~1      // a plain pointer
        words[41] = 0x6867_6665_6463_6261      // "abcdefgh"
        words[77] = 0x7f24_37a8_4801           // class 0 slab entry: left out, looks like an odd pointer
        words[150] = 0x25_7f24_3601_6c80       // large entry, class 37
        words[151] = 0xe8_7f24_3601_6c84       // dirty extent, "no class"
        words[152] = 0xe8_0000_0000_0000       // cleared entry
        words[199] = 0x4_7f24_37a8_48a1        // bits 5-6 set: not an entry
        var found: [Int] = []
        words.withUnsafeBytes { bytes in
            LeafEntryScan.scan(bytes, sizeCount: 232) { found.append($0 / 8) }
        }
        #expect(found == [3, 150, 151])
    }

    @Test func wordSearchFindsEveryCopy() {
        var words = [UInt64](repeating: 7, count: 100)
        words[0] = 0xdead_beef
        words[64] = 0xdead_beef
        words[99] = 0xdead_beef
        var found: [Int] = []
        words.withUnsafeBytes { WordSearch.find(0xdead_beef, in: $0) { found.append($0 / 8) } }
        #expect(found == [0, 64, 99])
    }
}
