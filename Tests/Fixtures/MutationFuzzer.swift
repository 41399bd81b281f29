import Foundation

/// An in-process mutation fuzzer for core files. Inputs are seed cores edited where their
/// structure says damage matters (chunk headers, list links, counts, map entries, program and
/// note headers) plus a few random bytes; each input is written to one file and handed to the
/// target, whose crash kills the process with the file left in place to reproduce it.
/// A target returns a signature of what it saw (warning kinds, counts); inputs with a new
/// signature join the corpus, which stands in for coverage feedback.
public struct MutationFuzzer {
    /// A field of a seed worth editing: `width` bytes at `offset` in the file, and values that
    /// make structural sense there (other chunks' addresses, the link's own position, sizes
    /// that reach top or past it), tried besides generic ones.
    public struct Site {
        public var offset: Int
        public var width: Int
        public var candidates: [UInt64]

        public init(offset: Int, width: Int = 8, candidates: [UInt64] = []) {
            self.offset = offset
            self.width = width
            self.candidates = candidates
        }
    }

    public struct Seed {
        public var bytes: [UInt8]
        public var sites: [Site]
        /// Random edits stay below this offset (nil: anywhere). A seed whose tail is a block
        /// many segments share (`SyntheticCore.shareZeroPages`) keeps it out of reach: one edit
        /// there would be dozens at once.
        public var randomEditEnd: Int?

        public init(bytes: [UInt8], sites: [Site], randomEditEnd: Int? = nil) {
            self.bytes = bytes
            self.sites = sites
            self.randomEditEnd = randomEditEnd
        }
    }

    /// How long to run: `HEAPSCAN_FUZZ_SECONDS` / `HEAPSCAN_FUZZ_ITERATIONS` when set (what
    /// `make fuzz` sets), otherwise the short default `make test` can afford.
    public struct Budget {
        public var seconds: Double
        public var iterations: Int

        public static func fromEnvironment(defaultSeconds: Double) -> Budget {
            let environment = ProcessInfo.processInfo.environment
            let seconds = environment["HEAPSCAN_FUZZ_SECONDS"].flatMap(Double.init) ?? defaultSeconds
            let iterations = environment["HEAPSCAN_FUZZ_ITERATIONS"].flatMap(Int.init) ?? Int.max
            return Budget(seconds: seconds, iterations: iterations)
        }
    }

    public struct Stats: CustomStringConvertible {
        public var name: String
        public var executions = 0
        public var seconds = 0.0
        public var corpus = 0
        public var signatures = 0
        public var slowestSeconds = 0.0
        public var peakResidentBytes = 0

        public var executionsPerSecond: Double { seconds > 0 ? Double(executions) / seconds : 0 }
        public var description: String {
            String(format: "fuzz %@: %d executions in %.1f s (%.0f/s), 0 crashes, 0 timeouts, corpus %d, %d distinct signatures, slowest %.3f s, peak RSS %d MiB",
                   name, executions, seconds, executionsPerSecond, corpus, signatures, slowestSeconds, peakResidentBytes >> 20)
        }
    }

    public let name: String
    public let seeds: [Seed]
    /// Runs longer than this abort the process: a hang is a failure like a crash.
    public var timeoutSeconds = 10.0
    /// A resident set above this (`HEAPSCAN_FUZZ_RSS_LIMIT_MB`, else 1 GiB) aborts the process
    /// too: an input that makes a walk reserve or copy without bound is a failure.
    public var residentLimitBytes = (ProcessInfo.processInfo.environment["HEAPSCAN_FUZZ_RSS_LIMIT_MB"].flatMap(Int.init) ?? 1024) << 20
    private var random: UInt64

    public init(name: String, seeds: [Seed], randomSeed: UInt64 = 0x5eed) {
        self.name = name
        self.seeds = seeds
        let override = ProcessInfo.processInfo.environment["HEAPSCAN_FUZZ_SEED"].flatMap(UInt64.init)
        random = (override ?? randomSeed) | 1
    }

    /// Where inputs are written: tmpfs when there is one, so writes cost little.
    public static var inputDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["HEAPSCAN_FUZZ_DIR"] { return URL(fileURLWithPath: directory) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory), isDirectory.boolValue,
           FileManager.default.isWritableFile(atPath: "/dev/shm") {
            return URL(fileURLWithPath: "/dev/shm/heapscan-fuzz")
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-fuzz")
    }

    /// Runs `target` on mutated inputs until the budget is spent. `target` gets the input's
    /// path and returns its signature; errors it throws are outcomes like any other.
    /// `HEAPSCAN_FUZZ_REPLAY` (paths separated by `:`) runs `target` on those files only: how a
    /// kept input is reproduced under a debugger.
    public mutating func run(_ budget: Budget, target: (String) throws -> String) throws -> Stats {
        if let replay = ProcessInfo.processInfo.environment["HEAPSCAN_FUZZ_REPLAY"] {
            var stats = Stats(name: name)
            for path in replay.split(separator: ":").map(String.init) {
                _ = try? target(path)
                stats.executions += 1
            }
            return stats
        }
        let directory = Self.inputDirectory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("\(name)-\(getpid())-current.core").path
        FileHandle.standardError.write(Data("fuzz \(name): each input is written to \(path); it stays there if the process dies\n".utf8))
        let watchdog = Watchdog(name: name, path: path, timeout: timeoutSeconds, residentLimit: residentLimitBytes)
        watchdog.start()
        defer { watchdog.stop() }

        var corpus = seeds
        // Kept inputs are whole cores: the corpus is capped by bytes as well as by count, so a
        // target with multi-megabyte cores stays well under a gigabyte.
        let largest = max(seeds.map(\.bytes.count).max() ?? 1, 1)
        let corpusLimit = max(seeds.count, min(512, (256 << 20) / largest))
        var seen = Set<String>()
        var stats = Stats(name: name)
        let start = Date()
        while stats.executions < budget.iterations {
            let elapsed = Date().timeIntervalSince(start)
            guard elapsed < budget.seconds else { break }
            let parent = corpus[Int(next() % UInt64(corpus.count))]
            var input = parent
            for _ in 0..<(1 + Int(next() % 6)) { mutate(&input) }
            try Data(input.bytes).write(to: URL(fileURLWithPath: path))
            let began = Date()
            watchdog.begin()
            let signature: String
            do { signature = try target(path) } catch { signature = "error: \(type(of: error))" }
            watchdog.end()
            stats.slowestSeconds = max(stats.slowestSeconds, Date().timeIntervalSince(began))
            stats.executions += 1
            if seen.insert(signature).inserted && corpus.count < corpusLimit { corpus.append(input) }
        }
        try? FileManager.default.removeItem(atPath: path)
        stats.seconds = Date().timeIntervalSince(start)
        stats.corpus = corpus.count
        stats.signatures = seen.count
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        stats.peakResidentBytes = usage.ru_maxrss * 1024
        return stats
    }

    // MARK: mutations

    private mutating func next() -> UInt64 {
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        return random
    }

    private mutating func mutate(_ input: inout Seed) {
        let roll = next() % 100
        let editable = min(input.randomEditEnd ?? input.bytes.count, input.bytes.count)
        if roll < 70, !input.sites.isEmpty {
            let site = input.sites[Int(next() % UInt64(input.sites.count))]
            write(value(for: site, in: input.bytes), width: site.width, at: site.offset, in: &input.bytes)
        } else if roll < 85 {
            // A random aligned word anywhere gets a value some site would take.
            let offset = Int(next() % UInt64(max(editable - 8, 1))) & ~7
            let donor = input.sites.isEmpty ? nil : input.sites[Int(next() % UInt64(input.sites.count))]
            let value = donor.map { self.value(for: $0, in: input.bytes) } ?? next()
            write(value, width: 8, at: offset, in: &input.bytes)
        } else if roll < 97 {
            let offset = Int(next() % UInt64(max(editable, 1)))
            if offset < editable { input.bytes[offset] ^= UInt8(truncatingIfNeeded: 1 << (next() % 8)) }
        } else {
            // A core cut short, as a crash handler or full disk leaves it.
            let keep = Int(next() % UInt64(max(input.bytes.count, 1)))
            input.bytes.removeLast(input.bytes.count - keep)
            input.sites.removeAll { $0.offset + $0.width > keep }
        }
    }

    private mutating func value(for site: Site, in bytes: [UInt8]) -> UInt64 {
        let current = read(width: site.width, at: site.offset, in: bytes)
        switch next() % 10 {
        case 0, 1, 2, 3 where !site.candidates.isEmpty:
            return site.candidates[Int(next() % UInt64(site.candidates.count))]
        case 4: return [0, 1, UInt64.max, UInt64.max >> 1, 1 << 63, (1 << 63) | 1, 0xffff, 0x8000_0000][Int(next() % 8)]
        case 5: return current &+ (next() % 2 == 0 ? 16 : 0x1000) &* (1 + next() % 4)
        case 6: return current &- (next() % 2 == 0 ? 16 : 0x1000) &* (1 + next() % 4)
        case 7: return current ^ (1 << (next() % UInt64(site.width * 8)))
        case 8: return next() >> (next() % 64)
        default: return next()
        }
    }

    private func read(width: Int, at offset: Int, in bytes: [UInt8]) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<width where offset + index < bytes.count {
            value |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
        }
        return value
    }

    private func write(_ value: UInt64, width: Int, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<width where offset + index < bytes.count && offset >= 0 {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
        }
    }
}

/// Aborts the process when one execution runs past the timeout or the process's resident set
/// past its limit, naming the input.
private final class Watchdog: @unchecked Sendable {
    private let name: String
    private let path: String
    private let timeout: Double
    private let residentLimit: Int
    private let lock = NSLock()
    private var started: Date?
    private var running = true

    init(name: String, path: String, timeout: Double, residentLimit: Int) {
        self.name = name
        self.path = path
        self.timeout = timeout
        self.residentLimit = residentLimit
    }

    /// The resident set now, from /proc/self/statm (its second field, in pages).
    private static func residentBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func start() {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.5)
                lock.lock()
                let (alive, since) = (running, started)
                lock.unlock()
                guard alive else { return }
                if let since, Date().timeIntervalSince(since) > timeout {
                    FileHandle.standardError.write(Data("fuzz \(name): an input ran longer than \(timeout) s; it is kept at \(path)\n".utf8))
                    abort()
                }
                if let resident = Self.residentBytes(), resident > residentLimit {
                    FileHandle.standardError.write(Data("fuzz \(name): resident set \(resident >> 20) MiB is past the limit of \(residentLimit >> 20) MiB; the input is kept at \(path)\n".utf8))
                    abort()
                }
            }
        }
        thread.start()
    }

    func begin() { lock.lock(); started = Date(); lock.unlock() }
    func end() { lock.lock(); started = nil; lock.unlock() }
    func stop() { lock.lock(); running = false; lock.unlock() }
}
