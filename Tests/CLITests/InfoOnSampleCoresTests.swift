import Foundation
import ELFCore
import Testing
import TestFixtures

/// `heapscan info` on real cores agrees with what the sample printed about itself and with
/// binutils' view of the same file.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct InfoOnSampleCoresTests {
    func regions(_ info: [String: Any]) -> [[String: Any]] { info["regions"] as? [[String: Any]] ?? [] }

    func label(of address: UInt64, in info: [String: Any]) -> String? {
        for region in regions(info) {
            if let start = truthAddress(region["start"]), let end = truthAddress(region["end"]), address >= start, address < end {
                return region["label"] as? String
            }
        }
        return nil
    }

    func allTruthAddresses(_ truth: [String: Any]) -> [UInt64] {
        var found: [UInt64] = []
        for magic in truth["magics"] as? [[String: Any]] ?? [] {
            for key in ["addresses", "anchored_addresses"] {
                found += (magic[key] as? [Any] ?? []).compactMap(truthAddress)
            }
        }
        return found
    }

    func checkAgainstTruth(_ sample: SampleCore, command: String) throws {
        let info = try HeapscanProcess.json(["info", sample.path])
        let process = try #require(info["process"] as? [String: Any])
        #expect((process["pid"] as? NSNumber)?.intValue == sample.int("pid"))
        #expect(process["command"] as? String == command)
        let addresses = allTruthAddresses(sample.truth)
        #expect(addresses.count >= 10)
        for address in addresses {
            #expect(label(of: address, in: info) == "heap", "truth address \(hex(address)) is not in a heap region")
        }
    }

    @Test func gcoreOfMagicMatchesTruth() throws {
        try checkAgainstTruth(try SampleCores.core("magic"), command: "magic")
    }

    @Test func kernelCoreOfMagicMatchesTruth() throws {
        let sample = try SampleCores.core("magic", kernel: true)
        try checkAgainstTruth(sample, command: "magic")
        let info = try HeapscanProcess.json(["info", sample.path])
        let process = try #require(info["process"] as? [String: Any])
        #expect(process["signalName"] as? String == "SIGABRT")
        // Kernel cores keep read-only file mappings as empty segments: reported, never zero-filled.
        let notDumped = regions(info).filter { $0["presence"] as? String == "not-dumped" }
        #expect(!notDumped.isEmpty)
        #expect(notDumped.allSatisfy { ($0["inCore"] as? NSNumber)?.intValue == 0 })
    }

    @Test func threadsAndStacksOfMultithreadedSample() throws {
        let sample = try SampleCores.core("threads")
        let info = try HeapscanProcess.json(["info", sample.path])
        let threads = try #require(info["threads"] as? [[String: Any]])
        #expect(threads.count == sample.int("threads"))
        let tids = Set(threads.compactMap { ($0["tid"] as? NSNumber)?.intValue })
        for worker in sample.truth["workers"] as? [[String: Any]] ?? [] {
            let tid = try #require((worker["tid"] as? NSNumber)?.intValue)
            #expect(tids.contains(tid))
            let stackAddress = try #require(truthAddress(worker["stack_address"]))
            #expect(label(of: stackAddress, in: info) == "stack")
            for address in (worker["addresses"] as? [Any] ?? []).compactMap(truthAddress) {
                #expect(label(of: address, in: info) == "heap")
            }
        }
    }

    @Test func segmentAndNoteCountsMatchReadelf() throws {
        for sample in [try SampleCores.core("magic"), try SampleCores.core("magic", kernel: true)] {
            let info = try HeapscanProcess.json(["info", sample.path])
            let programHeaders = try SampleCores.run(["readelf", "-lW", sample.path])
            let loads = programHeaders.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("LOAD") }
            let totals = try #require(info["totals"] as? [String: Any])
            #expect((totals["segments"] as? NSNumber)?.intValue == loads.count)
            let notes = try SampleCores.run(["readelf", "-nW", sample.path])
            let noteLines = notes.split(separator: "\n").filter {
                $0.range(of: #"^\s+\S+\s+0x[0-9a-f]+\s+\S"#, options: .regularExpression) != nil
            }
            #expect((info["noteCount"] as? NSNumber)?.intValue == noteLines.count)
        }
    }
}
