import ELFCore
import Foundation
import Testing
import TestFixtures

/// `heapscan heap` end to end on the mallocsizes core: the histogram, the free side and
/// `--address` say what the program printed about itself.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct HeapCommandTests {
    func number(_ object: [String: Any]?, _ key: String) -> Int? { (object?[key] as? NSNumber)?.intValue }

    @Test func histogramRowsAreThePlantedLiveCountsSortedByBytes() throws {
        let sample = try SampleCores.core("mallocsizes")
        let report = try HeapscanProcess.json(["heap", sample.path, "--top", "0"])
        let rows = try #require(report["sizes"] as? [[String: Any]])
        let bytes = rows.compactMap { number($0, "bytes") }
        #expect(bytes == bytes.sorted(by: >))
        for size in sample.truth["sizes"] as? [[String: Any]] ?? [] {
            let row = rows.first { number($0, "chunkSize") == number(size, "chunk_size") }
            #expect(number(row, "count") == number(size, "live"))
        }
        let shares = rows.compactMap { ($0["share"] as? NSNumber)?.doubleValue }
        #expect(abs(shares.reduce(0, +) - 1) < 1e-9)
        #expect((report["arenas"] as? [Any])?.count == 4)
        #expect(number(report["totals"] as? [String: Any], "mmappedChunks") == 10)
        #expect(report["free"] == nil)
    }

    @Test func textHistogramShowsEachPlantedSize() throws {
        let sample = try SampleCores.core("mallocsizes")
        let result = try HeapscanProcess.run(["heap", sample.path, "--top", "0"])
        #expect(result.status == 0 && !result.crashed)
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        for size in sample.truth["sizes"] as? [[String: Any]] ?? [] {
            let chunk = groupedDigits(number(size, "chunk_size") ?? -1)
            let live = groupedDigits(number(size, "live") ?? -1)
            #expect(rows.contains { $0.count >= 3 && $0[0] == chunk && $0[1] == "B" && $0[2] == live }, "no row \(chunk) B \(live)")
        }
        #expect(result.stdout.contains("main_arena 0x"))
        #expect(result.stdout.contains("mallinfo2 arena \(number(sample.truth["mallinfo2"] as? [String: Any], "arena") ?? -1) "))
    }

    @Test func freeSideCountsTheLists() throws {
        let sample = try SampleCores.core("mallocsizes")
        let report = try HeapscanProcess.json(["heap", sample.path, "--free", "--top", "3"])
        let free = try #require(report["free"] as? [String: Any])
        let expected = sample.truth["expected"] as? [String: Any]
        #expect(number(free, "fastbinChunks") == number(expected, "fastbin_chunks"))
        #expect(number(free, "unsortedChunks") == number(expected, "unsorted_chunks"))
        #expect((free["tcaches"] as? [Any])?.count == 4)
        #expect((report["sizes"] as? [Any])?.count == 3)
    }

    @Test func addressInsideAnAllocationNamesIt() throws {
        let sample = try SampleCores.core("mallocsizes")
        let sizes = try #require(sample.truth["sizes"] as? [[String: Any]])
        let thread = try #require((sizes[4]["per_thread"] as? [[String: Any]])?.first)
        let start = try #require(truthAddress(thread["first_live"]))
        let report = try HeapscanProcess.json(["heap", sample.path, "--address", hex(start + 100)])
        let lookup = try #require(report["lookup"] as? [String: Any])
        #expect(lookup["found"] as? Bool == true)
        #expect(truthAddress(lookup["address"]) == start)
        #expect(number(lookup, "offset") == 100)
        #expect(number(lookup, "chunkSize") == number(sizes[4], "chunk_size"))
        #expect(lookup["used"] as? Bool == true)

        let text = try HeapscanProcess.run(["heap", sample.path, "--address", "0x10"])
        #expect(text.status == 0 && text.stdout.contains("0x10 is in no allocation"))
    }

    @Test func badAddressIsOneErrorLine() throws {
        let result = try HeapscanProcess.run(["heap", "/nonexistent.core", "--address", "zz"])
        #expect(!result.crashed && result.status != 0)
        #expect(result.stderr == "heapscan: bad address 'zz' (use 0x… or a decimal number)\n")
    }
}
