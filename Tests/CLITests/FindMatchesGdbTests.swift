import Foundation
import ELFCore
import Testing
import TestFixtures

/// `heapscan find --format gdb` prints what `gdb -batch -ex 'find …'` prints, address for
/// address, on real sample cores. gdb stops at the first gap in memory, so each comparison
/// covers one contiguous range of segments.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct FindMatchesGdbTests {
    struct Run {
        let core: SampleCore
        let executable: String
        let file: CoreFile

        init(_ name: String, _ arguments: [String] = []) throws {
            core = try SampleCores.core(name, arguments)
            executable = URL(fileURLWithPath: core.path).deletingLastPathComponent().appendingPathComponent(name).path
            file = try CoreFile(path: core.path)
        }

        /// The maximal run of present, address-contiguous segments around `address`.
        func contiguousRange(around address: UInt64) -> (start: UInt64, end: UInt64)? {
            let segments = file.segments
            guard var first = segments.firstIndex(where: { $0.contains(address) }) else { return nil }
            var last = first
            while first > 0, segments[first - 1].end == segments[first].start,
                  segments[first - 1].presentEnd == segments[first - 1].end { first -= 1 }
            while last + 1 < segments.count, segments[last].presentEnd == segments[last].end,
                  segments[last + 1].start == segments[last].end { last += 1 }
            return (segments[first].start, segments[last].presentEnd)
        }

        func gdb(_ command: String) throws -> [String] {
            let output = try SampleCores.run(["gdb", "-batch", "-nx", executable, core.path, "-ex", command])
            // Keep the address lines (without gdb's <symbol+offset> decoration) and the summary.
            return output.split(separator: "\n").compactMap { line in
                if line.hasPrefix("0x") { return String(line.split(separator: " ")[0]) }
                if line.hasSuffix("found.") { return String(line) }
                return nil
            }
        }

        func heapscan(_ arguments: [String]) throws -> [String] {
            let result = try HeapscanProcess.run(["find", core.path] + arguments + ["--format", "gdb"])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").map(String.init)
        }
    }

    func plantedMagic(_ truth: [String: Any], width: Int) -> (value: String, count: Int, address: UInt64)? {
        for entry in truth["magics"] as? [[String: Any]] ?? [] where (entry["width"] as? NSNumber)?.intValue == width {
            guard let value = entry["value"] as? String, let count = (entry["count"] as? NSNumber)?.intValue,
                  let address = (entry["addresses"] as? [Any])?.first.flatMap(truthAddress) else { return nil }
            return (value, count, address)
        }
        return nil
    }

    @Test(arguments: [4, 8])
    func magicValuesEqualGdbFind(width: Int) throws {
        let run = try Run("magic")
        let magic = try #require(plantedMagic(run.core.truth, width: width))
        let range = try #require(run.contiguousRange(around: magic.address))
        let size = width == 4 ? "w" : "g"
        let gdbLines = try run.gdb("find /\(size) \(hex(range.start)), \(hex(range.end - 1)), \(magic.value)")
        let ours = try run.heapscan([magic.value, "--width", String(width), "--unaligned", "--regions", "all",
                                     "--range", "\(hex(range.start))-\(hex(range.end))"])
        #expect(ours == gdbLines)
        #expect(gdbLines.last == "\(magic.count) patterns found.")
        // Aligned (the default) is gdb's list without the unaligned positions; here there are none.
        let aligned = try run.heapscan([magic.value, "--regions", "all", "--range", "\(hex(range.start))-\(hex(range.end))"])
        let gdbAligned = gdbLines.dropLast().filter { UInt64($0.dropFirst(2), radix: 16)! % UInt64(width) == 0 }
        #expect(aligned.dropLast().elementsEqual(gdbAligned))
        #expect(aligned.last == "\(gdbAligned.count) patterns found.")
    }

    @Test func smallValueWithManyUnalignedHitsEqualsGdb() throws {
        let run = try Run("magic")
        let magic = try #require(plantedMagic(run.core.truth, width: 4))
        let range = try #require(run.contiguousRange(around: magic.address))
        // 0x0100 as 2 bytes: occurs at odd offsets inside the small integers all over the heap.
        let gdbLines = try run.gdb("find /h \(hex(range.start)), \(hex(range.end - 1)), 0x0100")
        let ours = try run.heapscan(["0x0100", "--width", "2", "--unaligned", "--regions", "all",
                                     "--range", "\(hex(range.start))-\(hex(range.end))"])
        #expect(gdbLines.count > 100)
        #expect(ours == gdbLines)
        // A negative value is an int, like gdb's -1, and needs no "--" before it.
        let gdbNegative = try run.gdb("find \(hex(range.start)), \(hex(range.end - 1)), -1")
        let oursNegative = try run.heapscan(["-1", "--unaligned", "--regions", "all",
                                             "--range", "\(hex(range.start))-\(hex(range.end))"])
        #expect(oursNegative == gdbNegative)
    }

    @Test func stringsEqualGdbFindAcrossSegments() throws {
        let run = try Run("magic")
        // The executable's segments and its .bss follow each other without a gap: gdb reads
        // across them, and so must find.
        let executableStart = try #require(run.file.fileMappings.first { $0.path.hasSuffix("/magic") }?.start)
        let range = try #require(run.contiguousRange(around: executableStart))
        #expect(run.file.segments.filter { $0.start >= range.start && $0.end <= range.end }.count > 1)
        let span = "\(hex(range.start)), \(hex(range.end - 1))"
        let flags = ["--regions", "all", "--range", "\(hex(range.start))-\(hex(range.end))"]
        // gdb's "TEXT" includes the terminating NUL.
        let gdbString = try run.gdb("find \(span), \"GLIBC_2.2.5\"")
        #expect(gdbString.last == "1 pattern found.")
        #expect(try run.heapscan(["--string", "GLIBC_2.2.5\\0"] + flags) == gdbString)
        // Bytes without a NUL: gdb takes them as a sequence of 1-byte values.
        let gdbBytes = try run.gdb("find /b \(span), 'G', 'L', 'I', 'B', 'C'")
        #expect(gdbBytes.count > 2)
        #expect(try run.heapscan(["--string", "GLIBC"] + flags) == gdbBytes)
        // Four bytes that straddle the boundary of the first two segments: found by both.
        let boundary = try #require(run.file.segments.first { $0.start == range.start }?.end)
        let straddling = try #require(run.file.addressSpace.read(boundary - 2, count: 4))
        let gdbStraddle = try run.gdb("find /b \(span), " + straddling.map { "0x" + String($0, radix: 16) }.joined(separator: ", "))
        #expect(gdbStraddle.contains(hex(boundary - 2)))
        let escaped = straddling.map { "\\x" + ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(try run.heapscan(["--string", escaped] + flags) == gdbStraddle)
        // A value with hits in several of the segments.
        let gdbValue = try run.gdb("find /b \(span), 0xe5")
        #expect(try run.heapscan(["0xe5", "--width", "1"] + flags) == gdbValue)
    }

    @Test func countModeEqualsTruth() throws {
        let run = try Run("magic")
        let magic4 = try #require(plantedMagic(run.core.truth, width: 4))
        let magic8 = try #require(plantedMagic(run.core.truth, width: 8))
        let report = try HeapscanProcess.json(["find", run.core.path, magic4.value, magic8.value, "--count"])
        let needles = report["needles"] as? [[String: Any]] ?? []
        #expect(needles.map { ($0["total"] as? NSNumber)?.intValue } == [magic4.count, magic8.count])
        #expect(report["hits"] == nil)
    }
}
