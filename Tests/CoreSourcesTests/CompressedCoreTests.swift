import Foundation
import Testing
import TestFixtures

/// One sample core as plain, zstd, xz, lz4 and gzip files, on stdin, through a FIFO and through
/// process substitution: every way gives the same answers as the plain core.
@Suite(.serialized) struct CompressedCoreTests {
    static let commands: [(String, [String])] = [
        ("find", ["0xc0ffee11"]),
        ("heap", []),
        ("leaks", []),
    ]

    static func answers(_ core: String) throws -> [String] {
        try commands.map { name, extra in
            try InputVariants.answer(InputVariants.shell("\"$HEAPSCAN\" \(name) '\(core)' \(extra.joined(separator: " ")) --format json"),
                                     "\(name) \(core)", input: core)
        }
    }

    @Test func everyCompressionGivesTheSameAnswers() throws {
        let sample = try SampleCores.core("leaker")
        let expected = try Self.answers(sample.path)
        #expect(expected[0].contains("\"total\""), "find answer has no hit count: \(expected[0].prefix(200))")
        for (suffix, path) in try InputVariants.compress(sample.path, name: "leaker") {
            #expect(try Self.answers(path) == expected, "\(suffix) differs")
        }
    }

    @Test func stdinFifoAndProcessSubstitutionGiveTheSameAnswers() throws {
        let sample = try SampleCores.core("leaker")
        let compressed = try InputVariants.compress(sample.path, name: "leaker-streams")
        let zst = try #require(compressed["zst"])
        let answers = try Self.answers(sample.path)
        for (index, (name, extra)) in Self.commands.enumerated() {
            let expected = answers[index]
            let arguments = [name, "-"] + extra + ["--format", "json"]
            #expect(try InputVariants.answer(InputVariants.run(arguments, stdin: sample.path), "stdin", input: "-") == expected)
            #expect(try InputVariants.answer(InputVariants.run(arguments, stdin: zst), "zstd on stdin", input: "-") == expected)
            let tail = (extra + ["--format", "json"]).joined(separator: " ")
            // bash names the pipe /dev/fd/N; heapscan echoes it back, so it is fixed here.
            let substituted = try InputVariants.shell("exec 9< <(zstd -dc '\(zst)'); \"$HEAPSCAN\" \(name) /dev/fd/9 \(tail)")
            #expect(try InputVariants.answer(substituted, "process substitution", input: "/dev/fd/9") == expected)
            let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-fifo-\(getpid())-\(index)").path
            // The writer connects before heapscan opens the FIFO (the sleep): the order in which a
            // probe descriptor closed too early could kill it under load and leave heapscan waiting
            // forever; the timeout turns any such hang into a failure instead of a stuck run.
            let throughFifo = try InputVariants.shell("""
                rm -f '\(fifo)' && mkfifo '\(fifo)' && (cat '\(sample.path)' > '\(fifo)' &) && sleep 0.3 && \
                timeout 120 "$HEAPSCAN" \(name) '\(fifo)' \(tail); status=$?; rm -f '\(fifo)'; exit $status
                """)
            #expect(try InputVariants.answer(throughFifo, "FIFO", input: fifo) == expected)
        }
    }

    /// --tmpdir unpacks into a file there that is unlinked at once, and so does running short of
    /// memory (in $TMPDIR, said in one line): same answer, nothing left.
    @Test func tmpdirAndShortMemoryGiveTheSameAnswerAndLeaveNothing() throws {
        let sample = try SampleCores.core("leaker")
        let zst = try #require(try InputVariants.compress(sample.path, name: "leaker-tmpdir")["zst"])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-spool-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spooled = try HeapscanProcess.run(["heap", zst, "--tmpdir", directory, "--format", "json"])
        #expect(try InputVariants.answer(spooled, "heap --tmpdir", input: zst) == Self.answers(sample.path)[1])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        let missing = try HeapscanProcess.run(["heap", zst, "--tmpdir", directory + "/none"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("heapscan: \(zst): cannot create a file in \(directory)/none (--tmpdir): "), "\(missing.stderr)")

        let moved = try InputVariants.shell("HEAPSCAN_MEMORY_AVAILABLE=0 TMPDIR='\(directory)' \"$HEAPSCAN\" heap '\(zst)' --format json")
        #expect(try InputVariants.answer(moved, "heap with memory short", input: zst) == Self.answers(sample.path)[1])
        // The allocation table then says the same for itself on a second line.
        #expect(moved.stderr.hasPrefix("heapscan: \(zst): memory is short: the core goes to an unlinked file in \(directory) instead (--tmpdir DIR chooses where)\n"),
                "\(moved.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    /// A corrupt stream is one clear error; a stream that ends early (a full disk, an interrupted
    /// copy) still gives its decompressed start, analysed as a truncated core with one warning.
    @Test func corruptStreamsAreOneLineErrorsAndTruncatedOnesKeepTheirStart() throws {
        let sample = try SampleCores.core("leaker")
        let compressed = try InputVariants.compress(sample.path, name: "leaker-damaged")
        for (suffix, path) in compressed {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let truncated = path + ".truncated"
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
            var damaged = bytes
            // Past every header, inside the compressed data: a checksum or the decoder notices.
            for offset in stride(from: bytes.count / 3, to: bytes.count / 3 + 64, by: 1) { damaged[offset] ^= 0x5A }
            let corrupt = path + ".corrupt"
            try damaged.write(to: URL(fileURLWithPath: corrupt))
            let result = try HeapscanProcess.run(["heap", corrupt])
            #expect(!result.crashed)
            #expect(result.status == 1, "\(suffix) corrupt: status \(result.status)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("heapscan: \(corrupt): corrupt "), "\(suffix): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(suffix): \(result.stderr)")

            let cut = try HeapscanProcess.run(["info", truncated, "--format", "json"])
            #expect(!cut.crashed)
            // lz4 writes blocks of 4 MB: half of this core ends inside its first block, so no
            // byte of the core can be had; the streaming formats give their first half.
            if suffix == "lz4" && cut.status == 1 {
                #expect(cut.stderr == "heapscan: \(truncated): truncated lz4 stream: the input ends inside it\n")
                continue
            }
            #expect(cut.status == 0, "\(suffix) truncated: status \(cut.status) \(cut.stderr)")
            let info = try JSONSerialization.jsonObject(with: Data(cut.stdout.utf8)) as? [String: Any] ?? [:]
            let warnings = (info["warnings"] as? [String]) ?? []
            #expect(warnings.first?.hasPrefix("truncated ") == true && warnings.first?.contains("analysing the first ") == true,
                    "\(suffix): \(warnings.prefix(3))")
        }
    }

    /// Only the core of a one-core command is read as a stream; a FIFO anywhere else (diff's
    /// cores, --exe) must be refused at once, not wait for a writer that never comes.
    @Test func fifosWhereFilesAreExpectedAreRefusedWithoutBlocking() throws {
        let sample = try SampleCores.core("leaker")
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-idle-fifo-\(getpid())").path
        try SampleCores.run(["sh", "-c", "rm -f '\(fifo)' && mkfifo '\(fifo)'"])
        defer { try? FileManager.default.removeItem(atPath: fifo) }
        let diff = try InputVariants.shell("timeout 20 \"$HEAPSCAN\" diff '\(sample.path)' '\(fifo)'")
        #expect(diff.status == 1, "\(diff.stderr)")
        #expect(diff.stderr == "heapscan: \(fifo): cannot open: not a regular file (only the core of a one-core command may be a pipe)\n")
        let exe = try InputVariants.shell("timeout 20 \"$HEAPSCAN\" info '\(sample.path)' --exe '\(fifo)'")
        #expect(exe.status == 1, "\(exe.stderr)")
        #expect(exe.stderr == "heapscan: \(fifo): not a regular file (--exe)\n")
    }
}
