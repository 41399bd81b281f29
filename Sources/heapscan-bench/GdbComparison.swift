import Foundation
import ELFCore
import Regions
import ScanKernels

/// `gdb find` against `heapscan find` on a real sample core with many hits: the magic sample
/// with a million 4-byte magics, searched over its heap segment by both.
struct GdbComparison {
    let repositoryRoot: URL
    let hits: Int

    static var gdbInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") }

    func run() throws -> (gdb: BenchRow, heapscan: BenchRow) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-bench-cores")
        let makeCore = repositoryRoot.appendingPathComponent("Samples/make-core").path
        let output = try shell([makeCore, "--out", directory.path, "magic", String(hits), "0", "0", "0"])
        guard let corePath = output.split(separator: "\n").last.map(String.init) else {
            throw BenchError("make-core printed no core path")
        }
        let executable = directory.appendingPathComponent("magic").path
        let core = try CoreFile(path: corePath)
        let map = RegionMap(core: core)
        guard let heap = map.regions.filter({ $0.label == .heap }).max(by: { $0.bytes.count < $1.bytes.count }) else {
            throw BenchError("the magic core has no heap region")
        }
        let command = "find /w \(hex(heap.start)), \(hex(heap.presentEnd - 1)), 0xa11c0de5"
        let gdbStart = ContinuousClock.now
        let gdbOutput = try shell(["gdb", "-batch", "-nx", executable, corePath, "-ex", command])
        let gdbSeconds = Self.seconds(ContinuousClock.now - gdbStart)
        let gdbSummary = gdbOutput.split(separator: "\n").last.map(String.init) ?? "?"

        let pattern = try FindPattern([try Needle.value(0xa11c_0de5, width: 4).unaligned])
        let plan = ScanPlan(regions: [heap])
        let row = try BenchClock.measure(BenchCase(name: "heapscan find --count (same range)", bytes: UInt64(heap.bytes.count)) {
            let result = Finder.find(pattern, plan: plan, limit: 0)
            return "\(result.total) hits"
        }, repeats: 5)
        return (BenchRow(name: "gdb find /w (\(gdbSummary))", bytes: UInt64(heap.bytes.count), seconds: gdbSeconds, note: command), row)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func shell(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("\(command[0]) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}
