import Foundation
import Testing
import TestFixtures

/// A core whose executable is stripped and whose library is gone: with DEBUGINFOD_URLS naming a
/// real debuginfod serving the original files, heapscan fetches the library and the
/// executable's debuginfo by build-id (elfutils' client and cache) and names the classes by
/// their symbols; without it, it cannot.
@Suite(.enabled(if: SampleCores.canMakeCores && FileManager.default.isExecutableFile(atPath: "/usr/bin/debuginfod"),
                "needs gcc, g++, gdb and debuginfod (make test installs them)"))
struct DebuginfodTests {
    /// A TCP port nobody listens on now.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SampleCoreError.failed("no free port") }
        return UInt16(bigEndian: address.sin_port)
    }

    func modules(_ core: String, environment: [String: String]) throws -> [String: [String: Any]] {
        let info = try InputVariants.shell("\(environment.map { "\($0)='\($1)'" }.joined(separator: " ")) \"$HEAPSCAN\" info '\(core)' --format json")
        guard info.status == 0, let object = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any],
              let list = object["modules"] as? [[String: Any]] else {
            throw SampleCoreError.failed("info failed: \(info.stderr)")
        }
        return Dictionary(list.map { (($0["name"] as? String) ?? "", $0) }) { first, _ in first }
    }

    @Test func missingFilesAndDebuginfoComeFromDebuginfod() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-debuginfod-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cores = root + "/cores", served = root + "/served", cache = root + "/cache"
        for directory in [cores, served, cache] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let output = try SampleCores.run([SampleCores.repositoryRoot.appendingPathComponent("Samples/make-core").path,
                                          "--out", cores, "classes"])
        let core = try #require(output.split(separator: "\n").last.map(String.init))
        let truth = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cores + "/classes.truth.json"))) as? [String: Any])
        // The server has the originals; this machine keeps a stripped executable and no library.
        try SampleCores.run(["sh", "-c", """
            mv '\(cores)/classes' '\(cores)/libshapes.so' '\(served)/' && cp '\(served)/classes' '\(cores)/classes' \
            && strip --strip-all '\(cores)/classes'
            """])

        let before = try modules(core, environment: [:])
        #expect(before["classes"]?["debugInfo"] == nil)
        #expect(before["libshapes.so"]?["fileFound"] as? Bool == false)
        let libraryBuildID = try #require(before["libshapes.so"]?["buildID"] as? String)

        let port = try Self.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/debuginfod")
        server.arguments = ["-F", "-p", String(port), "-d", root + "/index.sqlite", served]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            let deadline = Date().addingTimeInterval(5)
            while server.isRunning && Date() < deadline { usleep(50_000) }
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
        }
        let url = "http://127.0.0.1:\(port)"
        // Ready once it has indexed the files: ask for one, each time with a fresh cache (the
        // client remembers a miss for ten minutes).
        let deadline = Date().addingTimeInterval(60)
        var ready = false
        var attempt = 0
        while !ready && Date() < deadline {
            attempt += 1
            ready = (try? SampleCores.run(["debuginfod-find", "executable", libraryBuildID],
                                          environment: ["DEBUGINFOD_URLS": url, "DEBUGINFOD_CACHE_PATH": root + "/probe-\(attempt)"])) != nil
            if !ready { usleep(200_000) }
        }
        try #require(ready, "debuginfod did not serve \(libraryBuildID) within 60 s")

        let environment = ["DEBUGINFOD_URLS": url, "DEBUGINFOD_CACHE_PATH": cache]
        let after = try modules(core, environment: environment)
        #expect(after["classes"]?["debugInfo"] != nil, "\(after["classes"] ?? [:])")
        #expect(((after["classes"]?["symbols"] as? NSNumber)?.intValue ?? 0) > ((before["classes"]?["symbols"] as? NSNumber)?.intValue ?? 0))
        #expect((after["libshapes.so"]?["file"] as? String)?.hasPrefix(cache + "/" + libraryBuildID) == true, "\(after["libshapes.so"] ?? [:])")
        #expect(after["libshapes.so"]?["buildIDMatches"] as? Bool == true)

        let types = try InputVariants.shell("DEBUGINFOD_URLS='\(url)' DEBUGINFOD_CACHE_PATH='\(cache)' \"$HEAPSCAN\" types '\(core)' --format json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(types.stdout.utf8)) as? [String: Any], "\(types.stderr)")
        let rows = (report["rows"] as? [[String: Any]]) ?? []
        for expected in (truth["classes"] as? [[String: Any]]) ?? [] {
            let name = try #require(expected["name"] as? String)
            let row = rows.first { $0["name"] as? String == name }
            #expect(row?["identifiedBy"] as? String == "symbols", "\(name): \(row ?? [:])")
            #expect(row?["vtableSymbol"] as? String == expected["mangled_vtable"] as? String, "\(name)")
            #expect((row?["objects"] as? NSNumber)?.intValue == (expected["count"] as? NSNumber)?.intValue, "\(name)")
        }
    }
}
