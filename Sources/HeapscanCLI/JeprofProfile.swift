import Analysis
import ELFCore

/// A stack profile in jemalloc's own `heap_v2` text, what `prof.dump` writes, so `jeprof --text`
/// or `--svg` reads it: per stack the live objects and bytes, in total and per thread, and the
/// core's executable mappings in /proc/PID/maps form for jeprof to find the modules.
enum JeprofProfile {
    static func render(_ profile: StackProfile, lgSample: Int, core: CoreFile) -> String {
        func counts(_ label: String, _ objects: Int, _ bytes: UInt64) -> String {
            "  t\(label): \(objects): \(bytes) [0: 0]"
        }
        var threadTotals: [UInt64: (objects: Int, bytes: UInt64)] = [:]
        for stack in profile.stacks {
            for thread in stack.threads {
                threadTotals[thread.threadUID, default: (0, 0)].objects += thread.objects
                threadTotals[thread.threadUID, default: (0, 0)].bytes &+= thread.bytes
            }
        }
        var lines = ["heap_v2/\(UInt64(1) << UInt64(lgSample))",
                     counts("*", profile.stacks.reduce(0) { $0 + $1.objects }, profile.stacks.reduce(0) { $0 &+ $1.bytes })]
        lines += threadTotals.keys.sorted().map { counts(String($0), threadTotals[$0]!.objects, threadTotals[$0]!.bytes) }
        for stack in profile.stacks {
            lines.append("@ " + stack.frames.map(hex).joined(separator: " "))
            lines.append(counts("*", stack.objects, stack.bytes))
            lines += stack.threads.map { counts(String($0.threadUID), $0.objects, $0.bytes) }
        }
        lines += ["", "MAPPED_LIBRARIES:"]
        lines += mappedLibraries(core)
        return lines.joined(separator: "\n")
    }

    /// One /proc/PID/maps line per segment: jeprof matches executable lines by path.
    static func mappedLibraries(_ core: CoreFile) -> [String] {
        core.segments.map { segment in
            let mapping = core.fileMappings.first { $0.contains(segment.start) }
            let permissions = (segment.permissions.contains(.read) ? "r" : "-") + (segment.permissions.contains(.write) ? "w" : "-")
                + (segment.permissions.contains(.execute) ? "x" : "-") + "p"
            let offset = mapping.map { $0.fileOffset &+ (segment.start - $0.start) } ?? 0
            return "\(pad(segment.start))-\(pad(segment.end)) \(permissions) \(pad(offset)) 00:00 0"
                + (mapping.map { "      \($0.path)" } ?? "")
        }
    }

    private static func pad(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
