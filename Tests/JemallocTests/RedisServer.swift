import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestFixtures

/// A redis-server on loopback for one test: started on a free port with persistence off and
/// DEBUG allowed, always killed by `stop()`.
final class RedisServer {
    static let serverPath = "/usr/bin/redis-server"
    static let clientPath = "/usr/bin/redis-cli"
    static var isInstalled: Bool {
        [serverPath, clientPath, "/usr/bin/gcore"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    let port: Int
    private let process = Process()

    init() throws {
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: Self.serverPath)
        process.arguments = ["--bind", "127.0.0.1", "--port", String(port), "--enable-debug-command", "yes",
                             "--save", "", "--appendonly", "no", "--daemonize", "no"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while (try? command("PING"))?.hasPrefix("PONG") != true {
            guard Date() < deadline, process.isRunning else {
                stop()
                throw SampleCoreError.failed("redis-server on port \(port) did not answer PING within 10 s")
            }
            usleep(50_000)
        }
    }

    var pid: Int32 { process.processIdentifier }

    /// Runs one command with redis-cli and returns its raw output.
    @discardableResult
    func command(_ arguments: String...) throws -> String {
        try SampleCores.run([Self.clientPath, "-h", "127.0.0.1", "-p", String(port)] + arguments)
    }

    /// Dumps the server with gcore (anonymous and file-backed private memory, ELF headers).
    func gcore(into directory: URL) throws -> String {
        try "0x37".write(toFile: "/proc/\(pid)/coredump_filter", atomically: false, encoding: .utf8)
        let prefix = directory.appendingPathComponent("redis").path
        try SampleCores.run(["/usr/bin/gcore", "-o", prefix, String(pid)])
        return "\(prefix).\(pid)"
    }

    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SampleCoreError.failed("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SampleCoreError.failed("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The first arena table (merged when there are several arenas) of jemalloc's
/// `malloc_stats_print` text, as redis's MEMORY MALLOC-STATS returns it.
struct MallocStatsText {
    /// Bin index → (curregs, curslabs), bins with either non-zero.
    var bins: [Int: (regions: Int, slabs: Int)] = [:]
    /// Size index → curlextents, non-zero only.
    var large: [Int: Int] = [:]
    var allocated: UInt64 = 0

    init(_ text: String) {
        enum Table { case none, bins, large, done }
        var table = Table.none
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let fields = line.split(separator: " ")
            if line.hasPrefix("Allocated:"), allocated == 0, fields.count > 1 {
                allocated = UInt64(fields[1].trimmingCharacters(in: .punctuationCharacters)) ?? 0
            }
            if table == .done { continue }
            if line.hasPrefix("bins:") && line.contains("curregs") { table = .bins; continue }
            if line.hasPrefix("large:") && line.contains("curlextents") { table = .large; continue }
            if line.hasPrefix("extents:") && table == .large { table = .done; continue }
            guard fields.count > 2, let size = UInt64(fields[0]), size > 0, let index = Int(fields[1]) else { continue }
            switch table {
            case .bins:
                // size ind allocated nmalloc (#/sec) ndalloc (#/sec) nrequests (#/sec) nshards curregs curslabs …
                guard fields.count > 11, let regions = Int(fields[10]), let slabs = Int(fields[11]) else { continue }
                if regions > 0 || slabs > 0 { bins[index] = (regions, slabs) }
            case .large:
                if let count = Int(fields[fields.count - 1]), count > 0 { large[index] = count }
            case .none, .done:
                continue
            }
        }
    }
}
