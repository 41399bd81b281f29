import Allocators
import ELFCore
import Foundation
import Testing
import TestFixtures

/// Damaged jemalloc structures: a single bad leaf entry is reported and skipped, widespread
/// damage or another version is refused with a clear message, never guessed at.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb (make test installs them)"))
struct JemallocCorruptionTests {
    /// A copy of `path` with 8-byte words replaced at the given addresses.
    func patchedCopy(of path: String, core: CoreFile, words: [(address: UInt64, value: UInt64)]) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for (address, value) in words {
            let segment = try #require(core.addressSpace.segment(containing: address))
            #expect(address + 8 <= segment.presentEnd)
            let offset = Int(segment.fileOffset + (address - segment.start))
            bytes.replaceSubrange(offset..<(offset + 8), with: le(value))
        }
        return try SyntheticCore.writeTemporary(bytes, name: "jemalloc-patched")
    }

    /// The address of the extent-map entry for `page`.
    func entryAddress(of page: UInt64, heap: JemallocHeap, core: CoreFile) throws -> UInt64 {
        let leaf = try #require(core.addressSpace.readU64(heap.root + 8 * ((page >> 30) & 0x3ffff)))
        return leaf + 8 * ((page >> 12) & 0x3ffff)
    }

    @Test func oneCorruptedLeafEntryIsReportedAndTheRestStillCounts() throws {
        let sample = try SampleCores.core("jemalloc")
        let core = try CoreFile(path: sample.path)
        let heap = try #require(try JemallocHeap.read(core: core))
        // A page in the middle of a five-page slab (2560-byte regions): losing its entry must not
        // lose the slab, which its other four pages still name.
        let slab = try #require(heap.extents.first { $0.isSlab && $0.size == 5 * 4096 })
        let entry = try entryAddress(of: slab.base + 2 * 4096, heap: heap, core: core)
        let original = try #require(core.addressSpace.readU64(entry))
        let path = try patchedCopy(of: sample.path, core: core, words: [(entry, original &+ 3 * 128)])
        defer { try? FileManager.default.removeItem(atPath: path) }

        let damaged = try CoreFile(path: path)
        let walked = try #require(try JemallocHeap.read(core: damaged))
        #expect(walked.consistency.disagreeingEntries == 1)
        #expect(walked.consistency.incompleteCoverage == 1)
        #expect(walked.warnings.contains { $0.contains("1 of \(walked.consistency.entries) entries disagree") })
        JemallocSampleCoreTests.expectMergedMatch(walked.report(memory: damaged.addressSpace), JemallocTruth(sample))
    }

    @Test func widespreadDamageIsRefused() throws {
        let sample = try SampleCores.core("jemalloc")
        let core = try CoreFile(path: sample.path)
        let heap = try #require(try JemallocHeap.read(core: core))
        // Give every other active extent header a different size class.
        var words: [(UInt64, UInt64)] = []
        for (index, extent) in heap.extents.enumerated() where index % 2 == 0 && extent.state == .active {
            let bits = try #require(core.addressSpace.readU64(extent.edata))
            words.append((extent.edata, bits ^ (1 << 21)))
        }
        let path = try patchedCopy(of: sample.path, core: core, words: words)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try JemallocHeap.read(core: try CoreFile(path: path))
        } throws: { error in
            guard let error = error as? JemallocError, case .inconsistent = error else { return false }
            return error.description.contains("refusing")
        }
        for command in ["heap", "leaks"] {
            let result = try HeapscanProcess.run([command, path])
            #expect(result.status == 1 && !result.crashed, "\(command)")
            #expect(result.stderr.hasPrefix("heapscan: \(path): jemalloc's structures in this core are inconsistent, refusing"),
                    "\(command): \(result.stderr)")
        }
    }

    /// Random words of the map and of extent headers overwritten with random values: reading
    /// either refuses or reports, and never traps (the test process would die).
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomDamageNeverTraps(seed: UInt64) throws {
        let sample = try SampleCores.core("jemalloc")
        let core = try CoreFile(path: sample.path)
        let heap = try #require(try JemallocHeap.read(core: core))
        var state = seed &* 0x9e37_79b9_7f4a_7c15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var words: [(UInt64, UInt64)] = []
        for _ in 0..<48 {
            let extent = heap.extents[Int(next() % UInt64(heap.extents.count))]
            let entry = try entryAddress(of: extent.base, heap: heap, core: core)
            // Mostly plausible-looking values (other classes, states, nearby headers), some noise.
            let original = try #require(core.addressSpace.readU64(entry))
            let value = next() % 4 == 0 ? next() : original ^ (1 << (next() % 64))
            words.append((entry, value))
            words.append((extent.edata + 8 * (next() % 16), next() % 2 == 0 ? next() : next() & 0xffff_ffff))
        }
        let path = try patchedCopy(of: sample.path, core: core, words: words)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let damaged = try CoreFile(path: path)
        do {
            if let walked = try JemallocHeap.read(core: damaged) {
                let report = walked.report(memory: damaged.addressSpace, address: heap.extents[0].address)
                #expect(report.consistency.entries > 0)
                let table = walked.allocationTable()
                #expect(zip(table.allocations, table.allocations.dropFirst()).allSatisfy { $0.end <= $1.address })
            }
        } catch is JemallocError {
            // A refusal is a valid answer to damage.
        }
    }

    @Test func olderVersionsAreNotGuessedAt() throws {
        let core = try CoreFile(path: try SampleCores.core("jemalloc").path)
        let detection = try #require(JemallocDetection.detect(in: core))
        let older = JemallocDetection(version: "5.2.1-0-gea6b3e973b477b8061e0076bb257dbd7f3faa756",
                                      libraryPath: detection.libraryPath, moduleRanges: detection.moduleRanges)
        #expect(throws: JemallocError.unsupportedLayout("version 5.2.1-0-gea6b3e973b477b8061e0076bb257dbd7f3faa756 (only the 5.3 family is read)")) {
            _ = try JemallocHeap.read(core: core, detection: older)
        }
    }
}
