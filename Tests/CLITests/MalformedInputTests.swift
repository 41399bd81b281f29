import Foundation
import Testing
import TestFixtures

/// Bad input gives one line on stderr naming the file, a non-zero exit, and never a crash.
@Suite struct MalformedInputTests {
    func expectCleanFailure(_ path: String, mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try HeapscanProcess.run(["info", path])
        #expect(!result.crashed, "heapscan crashed on \(path): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.status != 0, sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one error line, got: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("heapscan: \(path): "), sourceLocation: sourceLocation)
        #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test func missingFileAndNonELF() throws {
        try expectCleanFailure("/nonexistent/core.1", mentioning: "No such file")
        let text = try SyntheticCore.writeTemporary(Array("#!/bin/sh\necho not a core\n".utf8), name: "text")
        try expectCleanFailure(text, mentioning: "not an ELF file")
        try expectCleanFailure("/bin/sh", mentioning: "not a core file")
    }

    @Test func wrongClassAndMachine() throws {
        var synthetic = SyntheticCore()
        synthetic.elfClass = 1
        try expectCleanFailure(try synthetic.write(), mentioning: "32-bit")
        synthetic = SyntheticCore()
        synthetic.machine = 8
        try expectCleanFailure(try synthetic.write(), mentioning: "unsupported machine 8")
    }

    @Test func truncatedCoresNeverCrash() throws {
        var synthetic = SyntheticCore()
        synthetic.segments = [.init(address: 0x1000, contents: words64(Array(0..<64)))]
        synthetic.threads = [.init(tid: 1, stackPointer: 0x1100)]
        synthetic.fileMappings = [(0x1000, 0x2000, 0, "/x")]
        let bytes = synthetic.build()
        for length in stride(from: 0, to: bytes.count, by: 37) {
            let path = try SyntheticCore.writeTemporary(Array(bytes[0..<length]), name: "cut")
            let result = try HeapscanProcess.run(["info", path, "--format", "json"])
            #expect(!result.crashed, "crash at length \(length): \(result.stderr)")
            #expect(result.status == 0 || result.stderr.hasPrefix("heapscan: \(path): "))
        }
    }

    @Test func lyingHeaderFieldsNeverCrash() throws {
        var base = SyntheticCore()
        base.segments = [.init(address: 0x1000, contents: words64([1, 2, 3]))]
        base.threads = [.init(tid: 1, stackPointer: 0x1008)]
        let clean = base.build()
        // Overwrite each 8-byte field of the header and program headers with hostile values.
        for offset in stride(from: 16, to: min(clean.count, 64 + 2 * 56), by: 8) {
            for value: UInt64 in [0, UInt64.max, UInt64.max - 7, 1 << 63, 0xffff] {
                var bytes = clean
                bytes.replaceSubrange(offset..<(offset + 8), with: le(value))
                let path = try SyntheticCore.writeTemporary(bytes, name: "lie")
                let result = try HeapscanProcess.run(["info", path])
                #expect(!result.crashed, "crash with \(value) at offset \(offset): \(result.stderr)")
            }
        }
    }
}
