import ELFCore
import Foundation
import Testing
import TestFixtures

/// Each `find` hit names the allocation holding it, and its C++ type when it has one.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct FindAllocationContextTests {
    @Test func hitsNameTheirAllocationAndType() throws {
        let sample = try SampleCores.core("leaker")
        let types = try #require(sample.truth["types"] as? [[String: Any]])
        for type in types {
            let name = try #require(type["name"] as? String)
            let total = try #require((type["total"] as? NSNumber)?.intValue)
            let value = try #require((type["vtable"] ?? type["value"]) as? String)
            let report = try HeapscanProcess.json(["find", sample.path, value])
            let hits = try #require(report["hits"] as? [[String: Any]])
            #expect(hits.count == total, "\(name)")
            for hit in hits {
                let allocation = try #require(hit["allocation"] as? [String: Any], "\(name) hit without allocation")
                #expect(allocation["start"] as? String == hit["address"] as? String)
                #expect((allocation["offset"] as? NSNumber)?.intValue == 0)
                #expect(allocation["used"] as? Bool == true)
                #expect((allocation["usableSize"] as? NSNumber)?.intValue ?? 0 >= (type["object_size"] as? NSNumber)?.intValue ?? .max)
                if type["kind"] as? String == "vtable" {
                    #expect(allocation["type"] as? String == name)
                } else {
                    #expect(allocation["type"] == nil)
                }
            }
        }
        let interior = try #require(types.first { $0["kind"] as? String == "magic" }?["example_leaked"] as? String)
        let address = try #require(truthAddress(interior))
        let shifted = try HeapscanProcess.json(["find", sample.path, "0xc0ffee11", "--range", "\(hex(address)),+8"])
        #expect((shifted["hits"] as? [[String: Any]])?.count == 1)
        let noWalk = try HeapscanProcess.json(["find", sample.path, "0xc0ffee11", "--no-allocations", "--limit", "1"])
        #expect((noWalk["hits"] as? [[String: Any]])?.first?["allocation"] == nil)
    }
}

/// `words --by-allocation` lists the planted magics with their exact counts.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct WordsByAllocationTests {
    @Test func plantedMagicsLeadWithExactCounts() throws {
        let sample = try SampleCores.core("magic")
        let report = try HeapscanProcess.json(["words", sample.path, "--by-allocation"])
        let rows = try #require(report["rows"] as? [[String: Any]])
        let magics = try #require(sample.truth["magics"] as? [[String: Any]])
        #expect(Set(rows.prefix(magics.count).compactMap { $0["value"] as? String }) == Set(magics.compactMap { $0["value"] as? String }))
        for magic in magics {
            let row = try #require(rows.first { $0["value"] as? String == magic["value"] as? String })
            #expect((row["count"] as? NSNumber)?.intValue == (magic["count"] as? NSNumber)?.intValue)
            #expect((row["offset"] as? NSNumber)?.intValue == (magic["offset"] as? NSNumber)?.intValue)
        }
    }
}

/// `--context` in JSON carries the raw bytes of the window, with the match where it belongs.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct FindContextBytesTests {
    @Test func rawWindowHoldsTheMatch() throws {
        let sample = try SampleCores.core("magic")
        let report = try HeapscanProcess.json(["find", sample.path, "0xa11c0de5", "--limit", "3", "--context", "8"])
        for hit in try #require(report["hits"] as? [[String: Any]]) {
            let address = try #require(truthAddress(hit["address"]))
            let start = try #require(truthAddress(hit["contextStart"]))
            let bytes = try #require(hit["contextHex"] as? String)
            #expect(address - start == 8)
            #expect(bytes.count == 2 * (8 + 4 + 8))
            let at = bytes.index(bytes.startIndex, offsetBy: Int(address - start) * 2)
            #expect(bytes[at...].hasPrefix("e50d1ca1"))
        }
    }
}
