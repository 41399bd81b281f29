import Foundation
import ELFCore
import Testing
import TestFixtures

/// `heapscan types` and the module table of `heapscan info`, run as a user runs them.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct TypesCommandTests {
    func truthClasses(_ sample: SampleCore) throws -> [[String: Any]] {
        try #require(sample.truth["classes"] as? [[String: Any]])
    }

    func rows(_ report: [String: Any]) -> [[String: Any]] { report["rows"] as? [[String: Any]] ?? [] }

    @Test func jsonRowsEqualTruth() throws {
        let sample = try SampleCores.core("classes")
        let report = try HeapscanProcess.json(["types", sample.path])
        #expect((report["countedBy"] as? String)?.hasPrefix("allocations (glibc") == true)
        for expected in try truthClasses(sample) {
            let name = try #require(expected["name"] as? String)
            let row = try #require(rows(report).first { $0["vtable"] as? String == expected["vtable"] as? String }, "\(name)")
            #expect(row["name"] as? String == name)
            #expect((row["objects"] as? NSNumber)?.intValue == (expected["count"] as? NSNumber)?.intValue)
            let secondary = (expected["secondary_vptrs"] as? [Any] ?? []).count
            #expect((row["secondaryVptrs"] as? NSNumber)?.intValue == secondary * ((expected["count"] as? NSNumber)?.intValue ?? -1))
            #expect(row["module"] as? String == expected["module"] as? String)
            #expect(row["vtableSymbol"] as? String == expected["mangled_vtable"] as? String)
        }
        // Sorted by objects, largest first.
        let counts = rows(report).compactMap { ($0["objects"] as? NSNumber)?.intValue }
        #expect(counts == counts.sorted(by: >))
    }

    @Test func mangledTopMinCountAndSort() throws {
        let sample = try SampleCores.core("classes")
        let mangled = try HeapscanProcess.json(["types", sample.path, "--mangled", "--top", "2"])
        #expect(rows(mangled).compactMap { $0["name"] as? String } == ["3Dog", "3Cat"])
        #expect((mangled["classes"] as? NSNumber)?.intValue ?? 0 > 2)

        let many = try HeapscanProcess.json(["types", sample.path, "--min-count", "100"])
        #expect(rows(many).compactMap { $0["name"] as? String } == ["Dog", "Cat", "Widget", "Diamond"])

        let bytes = try HeapscanProcess.json(["types", sample.path, "--sort", "bytes"])
        let estimates = rows(bytes).map { ($0["estimatedBytes"] as? NSNumber)?.intValue ?? 0 }
        #expect(estimates == estimates.sorted(by: >))
        // Per allocation, bytes are count × glibc's usable size for sizeof(T).
        let byAllocation = try truthClasses(sample).map { type -> (String, Int) in
            let size = (type["size"] as! NSNumber).intValue
            let usable = max(32, (size + 8 + 15) / 16 * 16) - 8
            return (type["name"] as! String, usable * (type["count"] as! NSNumber).intValue)
        }.sorted { $0.1 > $1.1 }
        #expect(rows(bytes).prefix(2).compactMap { $0["name"] as? String } == byAllocation.prefix(2).map(\.0))
        #expect(rows(bytes).first.flatMap { ($0["estimatedBytes"] as? NSNumber)?.intValue } == byAllocation.first?.1)
        // Scanning words instead: DWARF sizes, where Dog and Widget both hold 7200 bytes and the
        // tie goes to the larger count.
        let scanned = try HeapscanProcess.json(["types", sample.path, "--sort", "bytes", "--scan-words"])
        #expect(scanned["countedBy"] as? String == "words")
        #expect(rows(scanned).prefix(2).compactMap { $0["name"] as? String } == ["Dog", "Widget"])
    }

    @Test func textTableNamesEveryClass() throws {
        let sample = try SampleCores.core("classes")
        let result = try HeapscanProcess.run(["types", sample.path])
        #expect(result.status == 0 && !result.crashed)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("class") == true && lines.first?.contains("objects") == true)
        for expected in try truthClasses(sample) {
            let name = try #require(expected["name"] as? String)
            let count = try #require((expected["count"] as? NSNumber)?.intValue)
            #expect(lines.contains { $0.contains(name + " ") && $0.contains(" \(groupedDigits(count)) ") }, "\(name)")
        }
    }

    @Test func regionsOtherThanTheHeapHoldNoObjects() throws {
        let sample = try SampleCores.core("classes")
        let report = try HeapscanProcess.json(["types", sample.path, "--regions", "stack"])
        #expect((report["objects"] as? NSNumber)?.intValue == 0)
    }

    @Test func moduleTableInInfo() throws {
        let sample = try SampleCores.core("classes")
        let info = try HeapscanProcess.json(["info", sample.path])
        let modules = try #require(info["modules"] as? [[String: Any]])
        let exe = try #require(sample.truth["exe"] as? String)
        let library = try #require(sample.truth["libshapes"] as? String)
        for path in [exe, library] {
            let row = try #require(modules.first { $0["path"] as? String == path }, "\(path)")
            #expect(row["fileFound"] as? Bool == true)
            #expect(row["buildIDMatches"] as? Bool == true)
            #expect(row["debugInfo"] as? String == path)
            #expect((row["buildID"] as? String)?.count == 40)
        }
        let libc = try #require(modules.first { $0["name"] as? String == "libc.so.6" })
        #expect(libc["buildIDMatches"] as? Bool == true)
        let text = try HeapscanProcess.run(["info", sample.path]).stdout
        #expect(text.contains("modules (\(modules.count))"))
    }

    @Test func pathOptionsThatDoNotExistAreErrors() throws {
        let sample = try SampleCores.core("classes")
        let sysroot = try HeapscanProcess.run(["types", sample.path, "--sysroot", "/nonexistent-sysroot"])
        #expect(sysroot.status == 1 && !sysroot.crashed)
        #expect(sysroot.stderr == "heapscan: /nonexistent-sysroot: no such directory (--sysroot)\n")
        let exe = try HeapscanProcess.run(["info", sample.path, "--exe", "/nonexistent-exe"])
        #expect(exe.status == 1 && exe.stderr == "heapscan: /nonexistent-exe: no such executable (--exe)\n")
        let regions = try HeapscanProcess.run(["types", sample.path, "--regions", "heap,bogus"])
        #expect(regions.status == 1 && regions.stderr.hasPrefix("heapscan: unknown region 'bogus'"))
    }
}
