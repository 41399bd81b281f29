import Allocators
@testable import Analysis
import ELFCore
import Symbols
import Testing
import TestFixtures

/// Layouts learned from the heap for classes without DWARF: a word is dropped from the scan only
/// when the objects of its type prove it holds no pointer, never on one object's stale bytes.
@Suite struct ObservedLayoutsTests {
    static let heap: UInt64 = 0x5555_0000_0000
    static let vptr: UInt64 = 0x5555_5555_8d70
    static let objectSize: UInt64 = 64

    /// Objects of one class, 64 bytes each, laid end to end from `heap`; `words(i, address)` is
    /// object i's contents (8 words, the vptr first).
    static func layout(objects: Int, words: (Int, UInt64) -> [UInt64]) throws -> PointerLayout? {
        var bytes: [UInt8] = []
        var allocations: [Allocation] = []
        for object in 0..<objects {
            let address = heap + UInt64(object) * objectSize
            let contents = words(object, address)
            #expect(contents.count == Int(objectSize / 8))
            for word in contents {
                for byte in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(byte)))) }
            }
            allocations.append(Allocation(address: address, usableSize: objectSize, blockSize: objectSize + 8, isUsed: true, arena: 0))
        }
        var synthetic = SyntheticCore()
        synthetic.segments = [.init(address: heap, contents: bytes)]
        let core = try CoreFile(path: try synthetic.write())
        let table = AllocationTable(allocator: "test", method: "synthetic", arenas: ["main"], allocations: allocations,
                                    warnings: [], managedRanges: [heap..<(heap + UInt64(objects) * objectSize)])
        return ObservedLayouts.layouts(for: [vptr], table: table, memory: core.addressSpace)[vptr]
    }

    /// Little-endian text in one word.
    static func text(_ string: String) -> UInt64 {
        string.utf8.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// {vptr, id, name (string at slot 2: pointer, length, 16-byte buffer), next, count}: short
    /// names in even objects, long ones in odd objects, whose buffer's second word is stale.
    static func stringObject(_ object: Int, _ address: UInt64, next: UInt64) -> [UInt64] {
        if object % 2 == 0 {
            return [vptr, UInt64(object), address + 32, 5, text("alice"), 0, next, 7]
        }
        return [vptr, UInt64(object), 0x5555_7000_0000 + UInt64(object) * 64, 40, 47, heap + 8 * 64, next, 7]
    }

    @Test func aStringMembersLengthAndBufferAreNoPointers() throws {
        let layout = try #require(try Self.layout(objects: 40) { object, address in
            Self.stringObject(object, address, next: Self.heap + UInt64((object + 1) % 40) * Self.objectSize)
        })
        #expect(layout.pointerSlots == [0, 1, 2, 6, 7])
    }

    @Test func oneObjectsStaleStringHeaderProvesNothing() throws {
        // Object 3's bytes 16..47 are a previous occupant's short string header; the others hold
        // pointers and zeros there.
        let layout = try Self.layout(objects: 40) { object, address -> [UInt64] in
            let stale: [UInt64] = [address + 32, 2, Self.text("ab"), Self.heap]
            let live: [UInt64] = [0, 0, Self.heap + 64, Self.heap + 128]
            return [Self.vptr, 1] + (object == 3 || object == 5 ? stale : live) + [Self.heap, 0]
        }
        #expect(layout == nil)
    }

    @Test func wordsOfTextInEnoughObjectsAreACharacterArray() throws {
        // A 24-byte name at slots 2-4, filled to slot 4 in a third of the objects and ending in
        // slot 4 in another third; a pointer at 5. Slot 6 is one printable word in one object.
        let layout = try #require(try Self.layout(objects: 300) { object, _ in
            let tail: [UInt64] = switch object % 3 {
            case 0: [Self.text("0123456"), 0, 0]
            case 1: [Self.text("01234567"), Self.text("abcdefgh"), Self.text("xyz")]
            default: [Self.text("01234567"), Self.text("abcdefgh"), Self.text("ijklmnop")]
            }
            return [Self.vptr, 1] + tail + [Self.heap, object == 7 ? Self.text("PRINTABL") : Self.heap, 0]
        })
        #expect(layout.pointerSlots == [0, 1, 5, 6, 7])
    }

    @Test func printableWordsMatchAByteByByteTest() {
        var generator = SystemRandomNumberGenerator()
        var words: [UInt64] = [0, .max, Self.text("abcdefgh"), Self.text("abc"), Self.text("abcdefg"), 0x0000_5601_6781_a5d0,
                               0x7e7e_7e7e_7e7e_7e7e, 0x2020_2020_2020_2020, 0x7f7f_7f7f_7f7f_7f7f, 0x1f20_2020_2020_2020]
        for _ in 0..<50_000 {
            // Bytes mostly near the printable range's edges.
            words.append((0..<8).reduce(0) { word, byte in
                let value: UInt8 = [0x1f, 0x20, 0x7e, 0x7f, 0x00, 0x80, 0x41, 0xff].randomElement(using: &generator)!
                return word | UInt64(value) << (8 * UInt64(byte))
            })
        }
        for word in words {
            let bytes = (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) }
            let printable = bytes.allSatisfy { (0x20...0x7e).contains($0) }
            #expect(ObservedLayouts.isPrintable(word) == printable, "\(String(word, radix: 16))")
            let run = bytes.prefix { (0x20...0x7e).contains($0) }.count
            #expect(ObservedLayouts.endsText(word) == (run >= 3 && run < 8 && bytes[run] == 0), "\(String(word, radix: 16))")
        }
    }
}
