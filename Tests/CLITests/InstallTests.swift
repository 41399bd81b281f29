import Foundation
import Testing
import TestFixtures

/// `make install PREFIX=…` into a temporary prefix: the binary needs nothing of the Swift
/// toolchain (no library of it is linked, and it runs with an empty environment but PATH), and
/// the man page and completions are installed beside it.
@Suite(.enabled(if: SampleCores.canMakeCores && FileManager.default.isExecutableFile(atPath: "/usr/bin/make"),
                "needs make, gcc and gdb (make test installs them)"))
struct InstallTests {
    @Test func installedBinaryRunsWithoutTheToolchain() throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-install-\(getpid())")
        defer { try? FileManager.default.removeItem(at: prefix) }
        try SampleCores.run(["make", "-C", SampleCores.repositoryRoot.path, "install", "PREFIX=\(prefix.path)"])
        let binary = prefix.appendingPathComponent("bin/heapscan").path
        #expect(FileManager.default.isExecutableFile(atPath: binary))

        // Every shared library it needs is the system's: none from the toolchain, none missing.
        let libraries = try SampleCores.run(["ldd", binary]).split(separator: "\n")
        #expect(!libraries.isEmpty)
        for line in libraries {
            #expect(!line.contains("swift") && !line.contains("Foundation") && !line.contains("/opt/"), "\(line)")
            #expect(!line.contains("not found"), "\(line)")
        }

        // With PATH alone, no toolchain on it and no LD_LIBRARY_PATH, it analyses a core as
        // the built binary does.
        let core = try SampleCores.core("leaker").path
        let bare = try SampleCores.run(["env", "-i", "PATH=/usr/bin:/bin", binary, "leaks", core, "--format", "json"])
        let installed = try #require(try JSONSerialization.jsonObject(with: Data(bare.utf8)) as? [String: Any])
        let built = try HeapscanProcess.json(["leaks", core])
        #expect((installed["usedAllocations"] as? NSNumber) == (built["usedAllocations"] as? NSNumber))
        #expect((installed["leakedAllocations"] as? NSNumber) == (built["leakedAllocations"] as? NSNumber))
        #expect(installed["heapscanVersion"] as? String == built["heapscanVersion"] as? String)

        // The man page is generated from the commands' help; completions for three shells.
        let manual = try String(contentsOf: prefix.appendingPathComponent("share/man/man1/heapscan.1"), encoding: .utf8)
        #expect(manual.contains(".Dt HEAPSCAN 1"))
        for command in ["leaks", "show", "explain", "refs", "diff", "report"] { #expect(manual.contains(command), "\(command)") }
        let bash = try String(contentsOf: prefix.appendingPathComponent("share/bash-completion/completions/heapscan"), encoding: .utf8)
        let zsh = try String(contentsOf: prefix.appendingPathComponent("share/zsh/site-functions/_heapscan"), encoding: .utf8)
        let fish = try String(contentsOf: prefix.appendingPathComponent("share/fish/vendor_completions.d/heapscan.fish"), encoding: .utf8)
        #expect(bash.contains("_heapscan") && bash.contains("leaks"))
        #expect(zsh.hasPrefix("#compdef heapscan") && zsh.contains("leaks"))
        #expect(fish.contains("complete -c 'heapscan'") && fish.contains("'leaks'"))
    }
}
