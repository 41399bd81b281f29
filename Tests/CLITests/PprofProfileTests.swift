import Foundation
import PprofEncoding
import SwiftProtobuf
import Testing
import TestFixtures

/// `profile --format pprof`: pprof's gzipped profile.proto holding exactly the stacks, values and
/// frame names of `profile --format json`, and read by Go's pprof where it is installed.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb (make test installs them)"))
struct PprofProfileTests {
    struct Row: Hashable {
        let functions: [String]
        let values: [Int64]
    }

    func written(_ sample: SampleCore, _ extra: [String] = []) throws -> (file: String, profile: Perftools_Profiles_Profile) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("heapscan-\(getpid())-\(extra.count).pb.gz").path
        let result = try HeapscanProcess.run(["profile", sample.path, "--format", "pprof", "-o", file] + extra)
        #expect(result.status == 0 && !result.crashed, "\(result.stderr)")
        let raw = file + ".raw"
        try SampleCores.run(["sh", "-c", "gzip -dc '\(file)' > '\(raw)'"])
        defer { try? FileManager.default.removeItem(atPath: raw) }
        return (file, try Perftools_Profiles_Profile(serializedBytes: Data(contentsOf: URL(fileURLWithPath: raw))))
    }

    @Test func samplesAreTheJSONStacksExactly() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let (file, profile) = try written(sample)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let strings = profile.stringTable
        #expect(profile.sampleType.map { strings[Int($0.type)] } == PprofProfile.sampleTypes.map(\.0))
        let functions = Dictionary(uniqueKeysWithValues: profile.function.map { ($0.id, strings[Int($0.name)]) })
        let locations = Dictionary(uniqueKeysWithValues: profile.location.map { ($0.id, $0) })
        let ours = profile.sample.map { sample in
            Row(functions: sample.locationID.map { functions[locations[$0]?.line.first?.functionID ?? 0] ?? "?" }, values: sample.value)
        }
        let report = try HeapscanProcess.json(["profile", sample.path, "--top", "0"])
        let theirs = (report["stacks"] as? [[String: Any]] ?? []).map { stack in
            let frames = (stack["frames"] as? [[String: Any]] ?? []).filter { $0["caller"] as? Bool == true }
            let values = ["objects", "bytes", "leakedObjects", "leakedBytes"].map { (stack[$0] as? NSNumber)?.int64Value ?? -1 }
            // A frame no symbol covers is named as the folded output names it: module+offset.
            let names = frames.map { frame in
                frame["function"] as? String ?? "\(frame["module"] as? String ?? "?")+0x\(String((frame["offset"] as? NSNumber)?.uint64Value ?? 0, radix: 16))"
            }
            return Row(functions: names, values: values)
        }
        #expect(theirs.count >= 5)
        #expect(Set(ours) == Set(theirs))
        #expect(ours.count == theirs.count)
        // Every location lies in a mapping that names the module's file.
        let mappings = Set(profile.mapping.map(\.id))
        #expect(profile.location.allSatisfy { mappings.contains($0.mappingID) })
    }

    /// Go's pprof on our file and jeprof on jemalloc's own dump of the same moment put the same
    /// function first, with the same share of the live bytes.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/go")
                   && FileManager.default.isExecutableFile(atPath: "/usr/bin/jeprof"), "needs Go's pprof and jeprof"))
    func goPprofAndJeprofAgreeOnTheTopFunction() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let (file, _) = try written(sample)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let pprof = try SampleCores.run(["go", "tool", "pprof", "-top", "-sample_index=inuse_space", file]).split(separator: "\n")
        let executable = SampleCores.coreDirectory.appendingPathComponent("jemalloc-prof").path
        let jeprof = try SampleCores.run(["jeprof", "--text", executable, String(sample.path.dropLast(".core".count)) + ".heap"])
            .split(separator: "\n")
        // pprof: "   142080B 63.34% 63.34% ... tagged"; jeprof: "     0.1  63.3%  63.3% ... tagged".
        func isRow(_ line: Substring) -> Bool {
            let fields = line.split(separator: " ")
            return fields.count >= 6 && fields[1].hasSuffix("%") && fields[1].first?.isNumber == true
        }
        let ours = try #require(pprof.first(where: isRow)).split(separator: " ")
        let theirs = try #require(jeprof.first(where: isRow)).split(separator: " ")
        #expect(ours.last == theirs.last)
        let share = try #require(Double(ours[1].dropLast()))
        let jeprofShare = try #require(Double(theirs[1].dropLast()))
        #expect(abs(share - jeprofShare) < 0.06, "pprof \(share) %, jeprof \(jeprofShare) %")
    }

    /// Go's pprof, an independent reader, lists the leak site's bytes as the JSON says.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/go"), "needs Go's pprof (golang-go)"))
    func goPprofReadsIt() throws {
        let sample = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let (file, _) = try written(sample, ["--leaked-only"])
        defer { try? FileManager.default.removeItem(atPath: file) }
        let top = try SampleCores.run(["go", "tool", "pprof", "-top", "-unit=B", "-sample_index=leaked_space", file])
        let report = try HeapscanProcess.json(["profile", sample.path, "--top", "0", "--leaked-only"])
        let leaked = (report["stacks"] as? [[String: Any]] ?? []).reduce(Int64(0)) { $0 + ((($1["leakedBytes"] as? NSNumber)?.int64Value) ?? 0) }
        #expect(leaked > 0)
        #expect(top.contains("leak_site"), "\(top)")
        #expect(top.contains("100% of \(leaked)B total"), "\(top)")
    }
}
