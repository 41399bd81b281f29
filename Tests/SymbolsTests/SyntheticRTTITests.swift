import ELFCore
import Foundation
import Regions
import Symbols
import Testing
import TestFixtures

/// Classes recognised from RTTI alone in a synthetic core whose module file does not exist:
/// the module's memory holds typeinfo objects, their names and vtable groups, the heap holds
/// objects and decoys. No compiler involved, so every value is known.
struct SyntheticRTTITests {
    static let module: UInt64 = 0x7f10_0000_0000
    static let heap: UInt64 = 0x5555_6000_0000
    static let fooVtable = module + 0x1210
    static let barPrimary = module + 0x1310
    static let barSecondary = module + 0x1330
    /// Looks like an address point but its typeinfo names `int`, not a class.
    static let intDecoy = module + 0x1410
    /// Its typeinfo's name is not a mangled name.
    static let garbageDecoy = module + 0x1510
    /// Offset-to-top is positive: no object starts after its subobject.
    static let offsetDecoy = module + 0x1610

    /// A minimal ET_DYN header whose one PT_LOAD maps the first two pages: enough for libdwfl to
    /// report a module at this address.
    static func moduleHeaderPage() -> [UInt8] {
        var page = [UInt8](repeating: 0, count: 4096)
        page.replaceSubrange(0..<8, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
        page.replaceSubrange(16..<18, with: le(UInt16(3)))
        page.replaceSubrange(18..<20, with: le(UInt16(62)))
        page.replaceSubrange(20..<24, with: le(UInt32(1)))
        page.replaceSubrange(32..<40, with: le(UInt64(64)))
        page.replaceSubrange(52..<54, with: le(UInt16(64)))
        page.replaceSubrange(54..<56, with: le(UInt16(56)))
        page.replaceSubrange(56..<58, with: le(UInt16(1)))
        var load = le(UInt32(1)) + le(UInt32(4)) + le(UInt64(0)) + le(UInt64(0)) + le(UInt64(0))
        load += le(UInt64(0x2000)) + le(UInt64(0x2000)) + le(UInt64(0x1000))
        page.replaceSubrange(64..<(64 + 56), with: load)
        return page
    }

    /// The module's data page: typeinfo objects at +0x000…, names at +0x100…, vtable groups.
    static func moduleDataPage() -> [UInt8] {
        var page = [UInt8](repeating: 0, count: 4096)
        func put(_ offset: Int, _ values: [UInt64]) { page.replaceSubrange(offset..<(offset + values.count * 8), with: words64(values)) }
        func text(_ offset: Int, _ string: String) { page.replaceSubrange(offset..<(offset + string.utf8.count + 1), with: Array(string.utf8) + [0]) }
        let data = module + 0x1000
        put(0x000, [0, data + 0x100])          // typeinfo of Foo
        put(0x010, [0, data + 0x108])          // typeinfo of (anonymous namespace)::Bar
        put(0x020, [0, data + 0x128])          // typeinfo of int
        put(0x030, [0, data + 0x130])          // typeinfo with a garbage name
        text(0x100, "3Foo")
        text(0x108, "*N12_GLOBAL__N_13BarE")
        text(0x128, "i")
        text(0x130, "not mangled!")
        put(0x200, [0, data + 0x000, 0x1111, 0x2222])                             // Foo
        put(0x300, [0, data + 0x010, 0x3333, 0x4444, UInt64(bitPattern: -16), data + 0x010, 0x5555]) // Bar
        put(0x400, [0, data + 0x020, 0x6666])                                     // int decoy
        put(0x500, [0, data + 0x030, 0x7777])                                     // garbage decoy
        put(0x600, [16, data + 0x000, 0x8888])                                    // offset decoy
        return page
    }

    /// 7 Foo objects 32 bytes apart, 5 Bar objects (48 bytes, secondary vptr at +16) 64 apart,
    /// then one of each decoy and a pointer to a typeinfo name.
    static func heapPage() -> [UInt8] {
        var words = [UInt64](repeating: 0, count: 512)
        for index in 0..<7 { words[index * 4] = fooVtable; words[index * 4 + 1] = UInt64(index) }
        for index in 0..<5 {
            words[64 + index * 8] = barPrimary
            words[64 + index * 8 + 2] = barSecondary
        }
        words[200] = intDecoy
        words[201] = garbageDecoy
        words[202] = offsetDecoy
        words[203] = module + 0x1100
        return words64(words)
    }

    static func core() throws -> String {
        var core = SyntheticCore()
        // In address order, as cores have them (libdwfl relies on it).
        core.segments = [
            .init(address: heap, contents: heapPage(), flags: 6),
            .init(address: module, contents: moduleHeaderPage(), flags: 4),
            .init(address: module + 0x1000, contents: moduleDataPage(), flags: 4),
            .init(address: 0x7ffe_0000_0000, contents: [UInt8](repeating: 0, count: 4096), flags: 6),
        ]
        core.fileMappings = [(module, module + 0x2000, 0, "/nonexistent/libfake.so")]
        core.threads = [.init(tid: 1, stackPointer: 0x7ffe_0000_0800)]
        return try core.write(name: "rtti")
    }

    @Test func classesFromRTTIAlone() throws {
        let core = try CoreFile(path: try Self.core())
        let modules = try ModuleSet(core: core)
        let module = try #require(modules.module(containing: Self.fooVtable))
        #expect(module.name == "/nonexistent/libfake.so" && !module.fileFound)
        #expect(modules.warnings.contains { $0.hasPrefix("/nonexistent/libfake.so: file not found") })

        let identifier = TypeIdentifier(modules: modules, memory: ProcessMemory(core: core, modules: modules))
        #expect(identifier.catalog.classes.isEmpty)
        let census = TypeCensus.scan(regions: RegionMap(core: core).select(.heapOnly), identifier: identifier)
        #expect(census.entries.map(\.type.name) == ["Foo", "(anonymous namespace)::Bar"])
        let foo = census.entries[0], bar = census.entries[1]
        #expect(foo.objects == 7 && foo.secondaryVptrs == 0)
        #expect(foo.type.primaryAddressPoint == Self.fooVtable && foo.type.mangledType == "3Foo")
        #expect(foo.type.source == .rtti && foo.type.module == "libfake.so")
        #expect(foo.size == .stride(try #require(StrideEstimate(addresses: (0..<7).map { Self.heap + UInt64($0) * 32 }))))
        #expect(foo.size?.bytes == 32 && foo.size?.confidence == 1)
        #expect(bar.objects == 5 && bar.secondaryVptrs == 5)
        #expect(bar.type.primaryAddressPoint == Self.barPrimary && bar.type.secondaryAddressPoints == [Self.barSecondary])
        #expect(bar.type.mangledType == "N12_GLOBAL__N_13BarE")
        #expect(bar.size?.bytes == 64)
        // Seven distinct words point into the module: three address points, four others.
        #expect(census.candidates == 7)
        for decoy in [Self.intDecoy, Self.garbageDecoy, Self.offsetDecoy, Self.module + 0x1100] {
            #expect(identifier.identify(decoy) == nil, "\(hex(decoy))")
        }
    }

    @Test func typesCommandOnTheSyntheticCore() throws {
        let report = try HeapscanProcess.json(["types", try Self.core()])
        let rows = report["rows"] as? [[String: Any]] ?? []
        #expect(rows.compactMap { $0["name"] as? String } == ["Foo", "(anonymous namespace)::Bar"])
        #expect(rows.compactMap { $0["identifiedBy"] as? String } == ["rtti", "rtti"])
        #expect((report["warnings"] as? [String])?.count == 1)
    }

    @Test func truncatedCopiesNeverCrash() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Self.core())))
        for length in stride(from: 0, to: bytes.count, by: 211) {
            let path = try SyntheticCore.writeTemporary(Array(bytes[0..<length]), name: "rtti-cut")
            let result = try HeapscanProcess.run(["types", path, "--format", "json"])
            #expect(!result.crashed, "crash at length \(length): \(result.stderr)")
            #expect(result.status == 0 || result.stderr.hasPrefix("heapscan: \(path): "))
        }
    }
}
