import Analysis
import ELFCore
import Foundation
import Symbols

/// `profile`'s result: stacks with named frames, ready for text, JSON or folded output.
struct ProfileReport: Encodable {
    struct Frame: Encodable {
        let address: String
        let function: String?
        let offset: UInt64
        let source: String?
        let module: String?
        /// False for the leading frames inside jemalloc (its backtrace and malloc entry points).
        let caller: Bool
        /// "function+0x1c (file.c:12) in module".
        let description: String
    }

    struct ThreadCount: Encodable {
        let thread: UInt64
        let objects: Int
        let bytes: UInt64
    }

    struct Stack: Encodable {
        let objects: Int
        let bytes: UInt64
        let requestedBytes: UInt64
        let leakedObjects: Int
        let leakedBytes: UInt64
        /// With --lg-sample: the live objects and bytes the samples stand for.
        let estimatedObjects: Double?
        let estimatedBytes: Double?
        let threads: [ThreadCount]
        let frames: [Frame]
    }

    let core: String
    let sampledAllocations: Int
    let stackCount: Int
    let leakedOnly: Bool
    let lgSample: Int?
    let stacks: [Stack]
    let warnings: [String]

    init(core: String, profile: StackProfile, leakedOnly: Bool, top: Int, lgSample: Int?, warnings: [String],
         name: (UInt64) -> CallSite) {
        self.core = core
        self.lgSample = lgSample
        sampledAllocations = profile.sampledAllocations
        self.leakedOnly = leakedOnly
        self.warnings = warnings
        var chosen = profile.stacks
        if leakedOnly {
            chosen = chosen.filter { $0.leakedObjects > 0 }.sorted { a, b in
                a.leakedBytes != b.leakedBytes ? a.leakedBytes > b.leakedBytes : a.leakedObjects > b.leakedObjects
            }
        }
        stackCount = chosen.count
        if top > 0 { chosen = Array(chosen.prefix(top)) }
        stacks = chosen.map { stack in
            let estimate = lgSample.map { stack.estimate(lgSample: $0) }
            return Stack(objects: stack.objects, bytes: stack.bytes, requestedBytes: stack.requestedBytes,
                         leakedObjects: stack.leakedObjects, leakedBytes: stack.leakedBytes,
                         estimatedObjects: estimate?.objects, estimatedBytes: estimate?.bytes,
                         threads: stack.threads.map { ThreadCount(thread: $0.threadUID, objects: $0.objects, bytes: $0.bytes) },
                         frames: stack.frames.enumerated().map { index, address in
                             let site = name(address)
                             return Frame(address: hex(address), function: site.function, offset: site.offset, source: site.sourceLine,
                                          module: site.module, caller: index >= stack.firstCallerFrame, description: site.description)
                         })
        }
    }

    var text: String {
        let totalObjects = stacks.reduce(0) { $0 + $1.objects }
        var lines = ["\(core): \(grouped(sampledAllocations)) sampled live allocation\(sampledAllocations == 1 ? "" : "s") in \(grouped(stackCount)) stack\(stackCount == 1 ? "" : "s")"
            + (leakedOnly ? " with leaks" : "") + (stacks.count < stackCount ? ", top \(stacks.count) shown (\(grouped(totalObjects)) allocations)" : "")]
        for (rank, stack) in stacks.enumerated() {
            let threads = stack.threads.map { "t\($0.thread): \(grouped($0.objects))" }.joined(separator: ", ")
            lines.append("")
            lines.append("#\(rank + 1)  \(exactBytes(stack.bytes)) in \(grouped(stack.objects)) object\(stack.objects == 1 ? "" : "s") (requested \(exactBytes(stack.requestedBytes))), "
                         + "leaked \(grouped(stack.leakedObjects)) (\(exactBytes(stack.leakedBytes))); threads \(threads)")
            if let objects = stack.estimatedObjects, let bytes = stack.estimatedBytes, let lgSample {
                lines.append("    estimated live: \(exactBytes(Int(bytes.rounded()))) in \(grouped(Int(objects.rounded()))) objects (1 in 2^\(lgSample) bytes sampled)")
            }
            for frame in stack.frames where frame.caller {
                lines.append("    \(frame.description)")
            }
        }
        lines += warnings.map { "warning: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// Brendan Gregg's folded stacks: outermost frame first, the weight last.
    var folded: String {
        stacks.map { stack in
            let names = stack.frames.filter(\.caller).reversed().map { frame in
                (frame.function ?? frame.module.map { "\($0)+\(hex(frame.offset))" } ?? frame.address)
                    .replacingOccurrences(of: ";", with: ":").replacingOccurrences(of: " ", with: "_")
            }
            return names.joined(separator: ";") + " \(leakedOnly ? stack.leakedBytes : stack.bytes)"
        }.joined(separator: "\n")
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data("heapscan: \(line)\n".utf8))
}
