import Foundation
import ELFCore
import Symbols
import Testing
import TestFixtures

/// Cores analysed where their files are not where the core says: stripped copies, binaries moved
/// under a sysroot, a library that is gone.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"),
       .serialized)
struct RelocatedBinariesTests {
    /// Stripped copies under a sysroot are preferred to the originals; with no symbol table and
    /// no DWARF, the program's classes are found from RTTI alone and sized by stride.
    @Test func strippedCopiesIdentifyClassesFromRTTI() throws {
        let sample = try SampleCores.core("classes")
        let truth = try ClassesTruth(sample)
        let root = try Sysroots.freshDirectory("stripped")
        let binaries = [truth.executable, truth.library]
        try Sysroots.install(binaries, in: root)
        try Sysroots.strip(binaries, in: root)

        let found = try CensusExpectations.census(sample.path, options: SymbolOptions(sysroot: root.path))
        CensusExpectations.check(found.census, against: truth)
        for path in binaries {
            let module = try #require(found.modules.modules.first { $0.name == path })
            #expect(module.file == Sysroots.place(path, in: root).path)
            #expect(module.fileUsed && module.buildIDMatches == true)
            #expect(!module.hasDebugInfo)
        }
        for expected in truth.classes where expected.module == "classes" && !expected.name.hasPrefix("std::") {
            let entry = try #require(CensusExpectations.entry(found.census, named: expected.name))
            #expect(entry.type.source == .rtti, "\(expected.name)")
            #expect(entry.type.vtableSymbol == nil)
            #expect(entry.size?.source == .stride, "\(expected.name)")
            // The sample allocates round-robin: a stride most distances disagree with is not
            // multiplied out.
            if let confidence = entry.size?.confidence, confidence < TypeCensus.Entry.minimumConfidence {
                #expect(entry.estimatedBytes == nil)
            }
        }
        // libshapes exports its vtable in .dynsym, which strip keeps.
        #expect(CensusExpectations.entry(found.census, named: "shapes::Circle")?.type.source == .symbols)
    }

    /// Stripped binaries with their DWARF split off into a `--debug-dir` build-id tree, as
    /// distributions ship debuginfo packages.
    @Test func separateDebuginfoFromDebugDir() throws {
        let sample = try SampleCores.core("classes")
        let truth = try ClassesTruth(sample)
        let root = try Sysroots.freshDirectory("split-debug-root")
        let debugDirectory = try Sysroots.freshDirectory("split-debug-info")
        try Sysroots.install([truth.executable], in: root)
        let stripped = Sysroots.place(truth.executable, in: root).path
        let core = try CoreFile(path: sample.path)
        let buildID = try #require(try ModuleSet(core: core).executable?.coreBuildID?.description)
        let debugFile = debugDirectory.appendingPathComponent(".build-id/\(buildID.prefix(2))/\(buildID.dropFirst(2)).debug")
        try FileManager.default.createDirectory(at: debugFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SampleCores.run(["objcopy", "--only-keep-debug", truth.executable, debugFile.path])
        try SampleCores.run(["strip", "--strip-all", stripped])

        let found = try CensusExpectations.census(sample.path, options: SymbolOptions(
            sysroot: root.path, debugDirectories: [debugDirectory.path]))
        let executable = try #require(found.modules.executable)
        #expect(executable.file == stripped)
        #expect(executable.debugInfo == debugFile.path)
        CensusExpectations.check(found.census, against: truth)
        for expected in truth.classes where expected.module == "classes" && !expected.name.hasPrefix("std::") {
            let entry = try #require(CensusExpectations.entry(found.census, named: expected.name))
            #expect(entry.type.source == .symbols, "\(expected.name): .symtab comes with the debuginfo")
            #expect(entry.size == .dwarf(expected.size), "\(expected.name)")
        }
    }

    @Test func movedBinariesAreFoundUnderTheSysroot() throws {
        let (core, truth) = try Sysroots.privateClassesCore("moved")
        let root = try Sysroots.freshDirectory("moved-root")
        try Sysroots.install([truth.executable, truth.library], in: root, move: true)

        let withRoot = try CensusExpectations.census(core, options: SymbolOptions(sysroot: root.path))
        #expect(withRoot.modules.warnings.isEmpty, "\(withRoot.modules.warnings)")
        CensusExpectations.check(withRoot.census, against: truth)
        let dog = try #require(CensusExpectations.entry(withRoot.census, named: "Dog"))
        #expect(dog.size?.source == .dwarf)

        // Without the sysroot both files are missing: warnings, and the classes still count
        // from what the core itself holds.
        let without = try CensusExpectations.census(core)
        for path in [truth.executable, truth.library] {
            #expect(without.modules.warnings.contains { $0.hasPrefix(path + ": file not found") }, "\(without.modules.warnings)")
            #expect(without.modules.modules.first { $0.name == path }?.fileFound == false)
        }
        CensusExpectations.check(without.census, against: truth)
    }

    @Test func missingLibraryWarnsAndTheOtherClassesCount() throws {
        let (core, truth) = try Sysroots.privateClassesCore("missing-library")
        try FileManager.default.removeItem(atPath: truth.library)
        let found = try CensusExpectations.census(core)
        #expect(found.modules.warnings.count == 1)
        #expect(found.modules.warnings.first?.hasPrefix(truth.library + ": file not found") == true)
        CensusExpectations.check(found.census, against: truth, skipping: ["shapes::Circle"])
        let executable = try #require(found.modules.executable)
        #expect(executable.name == truth.executable && executable.fileUsed)
    }

    @Test func executableGivenWithExe() throws {
        let (core, truth) = try Sysroots.privateClassesCore("exe-option")
        let elsewhere = try Sysroots.freshDirectory("exe-option-elsewhere").appendingPathComponent("renamed-classes")
        try FileManager.default.moveItem(atPath: truth.executable, toPath: elsewhere.path)
        let found = try CensusExpectations.census(core, options: SymbolOptions(executable: elsewhere.path))
        #expect(found.modules.warnings.isEmpty, "\(found.modules.warnings)")
        #expect(found.modules.executable?.file == elsewhere.path)
        CensusExpectations.check(found.census, against: truth)
    }

    @Test func fileWithAnotherBuildIDIsNotUsed() throws {
        let sample = try SampleCores.core("classes")
        let truth = try ClassesTruth(sample)
        let root = try Sysroots.freshDirectory("wrong-build")
        // Another ELF file in the library's place: same path, different build-id.
        let impostor = Sysroots.place(truth.library, in: root)
        try FileManager.default.createDirectory(at: impostor.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/lib/x86_64-linux-gnu/libm.so.6", toPath: impostor.path)
        let found = try CensusExpectations.census(sample.path, options: SymbolOptions(sysroot: root.path))
        let library = try #require(found.modules.modules.first { $0.name == truth.library })
        // The original path still holds the right file, which is used after the impostor is refused.
        #expect(library.file == truth.library && library.fileUsed)
        CensusExpectations.check(found.census, against: truth)
    }

    /// An `--exe` of another program is not used, and says so: the recorded path that fits is
    /// used instead, with a warning naming both build-ids.
    @Test func anExeWithAnotherBuildIDIsReported() throws {
        let sample = try SampleCores.core("classes")
        _ = try SampleCores.core("leaker")
        let other = SampleCores.coreDirectory.appendingPathComponent("leaker").path
        let core = try CoreFile(path: sample.path)
        let modules = try ModuleSet(core: core, options: SymbolOptions(executable: other))
        let executable = try #require(modules.executable)
        #expect(executable.file != other && executable.buildIDMatches == true)
        let warning = modules.warnings.first { $0.contains("--exe \(other) has build-id") }
        #expect(warning?.contains("using \(executable.file ?? "?") instead") == true, "\(modules.warnings)")
    }
}
