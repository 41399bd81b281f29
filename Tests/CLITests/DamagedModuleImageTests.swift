import ELFCore
import Foundation
import Testing
import TestFixtures

/// Two bytes of a kernel-written core, the p_offset of ld.so's first PT_LOAD set to 0, put the
/// core's own ELF header where ld.so's was: libdwfl then reports a module spanning the others,
/// and handing that to libdw faulted. Every command must run, saying the module was skipped.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb (make test installs them)"))
struct DamagedModuleImageTests {
    @Test func coreHeaderInPlaceOfTheDynamicLoaderIsSkipped() throws {
        let sample = try SampleCores.core("classes", kernel: true)
        let core = try CoreFile(path: sample.path)
        let loader = try #require(core.fileMappings.first { $0.path.contains("/ld-linux") && $0.fileOffset == 0 })
        let index = try #require(core.programHeaders.firstIndex { $0.type == 1 && $0.virtualAddress == loader.start })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sample.path)))
        let field = Int(core.header.programHeaderOffset) + index * 56 + 8
        bytes.replaceSubrange(field..<(field + 8), with: le(UInt64(0)))
        let path = try SyntheticCore.writeTemporary(bytes, name: "loader-offset-zero")
        defer { try? FileManager.default.removeItem(atPath: path) }

        for command in ["info", "types", "heap", "leaks", "words"] {
            let result = try HeapscanProcess.run([command, path])
            #expect(!result.crashed && result.status == 0, "\(command): \(result.stderr)")
        }
        let info = try HeapscanProcess.run(["info", path])
        #expect(info.stdout.contains("over another module (damaged headers in the core?); skipped"), "\(info.stdout)")
    }
}
