import Foundation
import Testing
import TestFixtures

/// `types`, `leaks` and `show` on the dbserver sample, whose objects sit behind a MySQL-style
/// 24-byte allocator header: every class is counted and judged exactly, at its offset.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct DbserverSampleTests {
    struct TruthClass {
        let name: String
        let offset: Int
        let anchored: Int
        let leaked: Int
        let leakedAddresses: [UInt64]
        let anchoredAddresses: [UInt64]

        /// How heapscan names the class's group: "THD at +24".
        var groupName: String { offset == 0 ? name : "\(name) at +\(offset)" }
    }

    func classes(_ sample: SampleCore) throws -> [TruthClass] {
        let rows = try #require(sample.truth["classes"] as? [[String: Any]])
        return try rows.map { row in
            TruthClass(name: try #require(row["name"] as? String), offset: try #require((row["offset"] as? NSNumber)?.intValue),
                       anchored: try #require((row["anchored"] as? NSNumber)?.intValue),
                       leaked: try #require((row["leaked"] as? NSNumber)?.intValue),
                       leakedAddresses: (row["leaked_addresses"] as? [Any] ?? []).compactMap(truthAddress),
                       anchoredAddresses: (row["anchored_addresses"] as? [Any] ?? []).compactMap(truthAddress))
        }
    }

    @Test func typesCountsEveryClassExactlyAtItsOffset() throws {
        let sample = try SampleCores.core("dbserver")
        let truth = try classes(sample)
        #expect(truth.contains { $0.offset == 24 } && truth.contains { $0.offset == 0 }, "the sample must have both placements")
        let report = try HeapscanProcess.json(["types", sample.path])
        let rows = try #require(report["rows"] as? [[String: Any]])
        for expected in truth {
            let row = try #require(rows.first { $0["name"] as? String == expected.name }, "types has no row for \(expected.name)")
            #expect((row["objects"] as? NSNumber)?.intValue == expected.anchored + expected.leaked, "\(expected.name)")
            #expect((row["offset"] as? NSNumber)?.intValue == expected.offset, "\(expected.name)")
        }
        let text = try HeapscanProcess.run(["types", sample.path]).stdout
        #expect(text.contains("THD at +24"), "\(text)")
    }

    @Test func leaksJudgesEveryClassExactlyAndRanksThePlantedLeakFirst() throws {
        let sample = try SampleCores.core("dbserver")
        let truth = try classes(sample)
        let report = try HeapscanProcess.json(["leaks", sample.path, "--top", "0"])
        let suspects = try #require(report["suspects"] as? [[String: Any]])
        for expected in truth {
            let row = try #require(suspects.first { $0["kind"] as? String == "type" && $0["name"] as? String == expected.groupName },
                                   "leaks has no group \(expected.groupName)")
            #expect((row["count"] as? NSNumber)?.intValue == expected.anchored + expected.leaked, "\(expected.name)")
            #expect((row["leaked"] as? NSNumber)?.intValue == expected.leaked, "\(expected.name)")
            #expect((row["anchored"] as? NSNumber)?.intValue == expected.anchored, "\(expected.name)")
            #expect((row["offset"] as? NSNumber)?.intValue == expected.offset, "\(expected.name)")
        }
        let planted = try #require(truth.first { $0.name == sample.truth["planted_leak"] as? String })
        #expect(suspects.first?["name"] as? String == planted.groupName)
    }

    @Test func showNamesTheObjectBehindTheHeader() throws {
        let sample = try SampleCores.core("dbserver")
        let planted = try #require(try classes(sample).first { $0.name == sample.truth["planted_leak"] as? String })
        let object = try #require(planted.leakedAddresses.first)
        let view = try HeapscanProcess.json(["show", sample.path, "0x" + String(object, radix: 16)])
        #expect(view["type"] as? String == planted.groupName)
        #expect(view["start"] as? String == "0x" + String(object - UInt64(planted.offset), radix: 16))
        #expect(view["liveness"] as? String != "anchored")
    }
}

extension DbserverSampleTests {
    /// explain names the member holding each pointer in a holder behind a header, counted from
    /// the object's start: the anchored temporary tables hang off THD::tmp_tables, one after
    /// another through ha_maria::next_tmp.
    @Test func explainNamesMembersOfObjectsBehindTheHeader() throws {
        let sample = try SampleCores.core("dbserver")
        let planted = try #require(try classes(sample).first { $0.name == "ha_maria" })
        for object in planted.anchoredAddresses.prefix(8) {
            let chain = try HeapscanProcess.json(["explain", sample.path, "0x" + String(object, radix: 16)])
            let links = try #require(chain["links"] as? [[String: Any]])
            let last = try #require(links.last)
            let member = last["member"] as? String
            #expect(member == "THD::tmp_tables" || member == "ha_maria::next_tmp", "\(links)")
        }
    }
}

extension DbserverSampleTests {
    /// leaks --owners names the TABLEs (my_malloc'd, no vptr) by the handler field pointing at
    /// them: most of them are an ha_innobase's `table`.
    @Test func ownersNameUntypedBlocksByTheFieldHoldingThem() throws {
        let sample = try SampleCores.core("dbserver")
        let tableSize = try #require(sample.int("table_size"))
        let header = try #require(sample.int("header_size"))
        let field = try #require(sample.int("handler_table_offset"))
        let block = max(32, (tableSize + header + 8 + 15) / 16 * 16)
        let report = try HeapscanProcess.json(["leaks", sample.path, "--owners", "--top", "0"])
        let suspects = try #require(report["suspects"] as? [[String: Any]])
        let tables = try #require(suspects.first { $0["name"] as? String == "\(block)-byte blocks" })
        #expect(tables["owner"] as? String == "ha_innobase +\(field)", "\(tables)")
        #expect(((tables["ownerShare"] as? NSNumber)?.doubleValue ?? 0) > 0.3)
        // Without the flag nothing is named.
        let plain = try HeapscanProcess.json(["leaks", sample.path, "--top", "0"])
        #expect((plain["suspects"] as? [[String: Any]])?.allSatisfy { $0["owner"] == nil } == true)
    }
}
