import Analysis
import Foundation
import SwiftProtobuf
import Symbols

/// A stack profile as pprof's profile.proto (`profile.pb.swift`, generated once from Google's
/// `proto/profile.proto` with protoc-gen-swift and committed): per stack the sampled live
/// objects and bytes and, of those, the leaked ones; each frame's function, source line and
/// module, so that `pprof -top` or `go tool pprof` read it like a profile of their own.
public enum PprofProfile {
    /// The sample values, in this order, as pprof names them.
    public static let sampleTypes = [("inuse_objects", "count"), ("inuse_space", "bytes"),
                                     ("leaked_objects", "count"), ("leaked_space", "bytes")]

    /// `leakedOnly` keeps the stacks with leaked allocations and makes leaked bytes the value
    /// pprof shows first; `lgSample` records jemalloc's sampling period.
    public static func encode(_ profile: StackProfile, leakedOnly: Bool, lgSample: Int?, modules: [Module],
                              callSite: (UInt64) -> CallSite) -> Perftools_Profiles_Profile {
        var strings = [""]
        var stringIndex: [String: Int64] = ["": 0]
        func intern(_ text: String) -> Int64 {
            if let known = stringIndex[text] { return known }
            strings.append(text)
            stringIndex[text] = Int64(strings.count - 1)
            return Int64(strings.count - 1)
        }
        var result = Perftools_Profiles_Profile()
        result.sampleType = sampleTypes.map { type, unit in
            var value = Perftools_Profiles_ValueType()
            value.type = intern(type)
            value.unit = intern(unit)
            return value
        }
        result.defaultSampleType = intern(leakedOnly ? "leaked_space" : "inuse_space")
        if let lgSample {
            var period = Perftools_Profiles_ValueType()
            period.type = intern("space")
            period.unit = intern("bytes")
            result.periodType = period
            result.period = Int64(1) << Int64(lgSample)
        }
        result.mapping = modules.map { module in
            var mapping = Perftools_Profiles_Mapping()
            mapping.id = UInt64(module.index + 1)
            mapping.memoryStart = module.start
            mapping.memoryLimit = module.end
            mapping.filename = intern(module.file ?? module.name)
            mapping.buildID = intern(module.coreBuildID?.description ?? "")
            mapping.hasFunctions_p = module.symbolCount > 0
            mapping.hasFilenames_p = module.hasDebugInfo
            mapping.hasLineNumbers_p = module.hasDebugInfo
            return mapping
        }
        var locationIDs: [UInt64: UInt64] = [:]
        var functionIDs: [String: UInt64] = [:]
        func location(_ address: UInt64) -> UInt64 {
            if let known = locationIDs[address] { return known }
            let site = callSite(address)
            var location = Perftools_Profiles_Location()
            location.id = UInt64(result.location.count + 1)
            location.address = address
            location.mappingID = modules.first { $0.contains(address) }.map { UInt64($0.index + 1) } ?? 0
            let (file, line) = Self.split(site.sourceLine)
            let name = site.name
            let functionKey = name + "\u{0}" + (file ?? "")
            let functionID: UInt64
            if let known = functionIDs[functionKey] {
                functionID = known
            } else {
                var function = Perftools_Profiles_Function()
                function.id = UInt64(result.function.count + 1)
                function.name = intern(name)
                function.systemName = intern(name)
                function.filename = intern(file ?? "")
                result.function.append(function)
                functionIDs[functionKey] = function.id
                functionID = function.id
            }
            var frame = Perftools_Profiles_Line()
            frame.functionID = functionID
            frame.line = line ?? 0
            location.line = [frame]
            result.location.append(location)
            locationIDs[address] = location.id
            return location.id
        }
        for stack in profile.stacks where !leakedOnly || stack.leakedObjects > 0 {
            var sample = Perftools_Profiles_Sample()
            // pprof lists a sample's locations innermost first, as jemalloc records its frames.
            sample.locationID = stack.callerFrames.map(location)
            sample.value = [Int64(stack.objects), Int64(clamping: stack.bytes), Int64(stack.leakedObjects),
                            Int64(clamping: stack.leakedBytes)]
            result.sample.append(sample)
        }
        result.stringTable = strings
        return result
    }

    /// "file.c:12" as (file, line); a source without a line number stays whole.
    static func split(_ source: String?) -> (String?, Int64?) {
        guard let source else { return (nil, nil) }
        guard let colon = source.lastIndex(of: ":"), let line = Int64(source[source.index(after: colon)...]) else {
            return (source, nil)
        }
        return (String(source[..<colon]), line)
    }

    /// The serialized profile, gzip-compressed as pprof expects a profile on disk.
    public static func file(_ profile: Perftools_Profiles_Profile) throws -> Data {
        try GzipWriter.compress(profile.serializedData())
    }
}
