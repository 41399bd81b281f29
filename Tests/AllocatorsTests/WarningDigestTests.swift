import Allocators
import Testing

/// Warnings of one kind are those equal once their numbers are blanked out.
struct WarningDigestTests {
    @Test func numbersOfEveryShapeBecomeOneMark() {
        #expect(WarningDigest.kind(of: "tcache bin 12 at 0x7f3a_00c0ffee holds 3 chunks") == "tcache bin # at #_# holds # chunks")
        #expect(WarningDigest.kind(of: "chunk 0x55d0a1b2c3d0: size 0xdeadbeef reaches past top") == "chunk #: size # reaches past top")
        #expect(WarningDigest.kind(of: "… and 41 more like this") == "… and # more like this")
        #expect(WarningDigest.kind(of: "fastbin → 0x10 (damaged)") == "fastbin → # (damaged)")
        // Letters start no number: "bad" and "face" stay words.
        #expect(WarningDigest.kind(of: "bad face 0xface") == "bad face #")
    }

    @Test func repeatedKindsAreFoldedAfterTheirExamples() {
        let warnings = (0..<10).map { "fastbin \($0) loops at 0x\(String($0 * 16, radix: 16))" } + ["arena ring broken"]
        #expect(WarningDigest.digest(warnings) == Array(warnings.prefix(3)) + ["… and 7 more like this", "arena ring broken"])
    }
}
