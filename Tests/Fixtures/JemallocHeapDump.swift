import Foundation

/// A jemalloc `heap_v2` profile (what `prof.dump` writes and jeprof reads), parsed: the truth
/// a heap profile read from a core is compared with.
public struct JemallocHeapDump {
    public struct Counts: Equatable, CustomStringConvertible {
        public var objects: UInt64
        public var bytes: UInt64
        public init(objects: UInt64, bytes: UInt64) {
            self.objects = objects
            self.bytes = bytes
        }
        public var description: String { "\(objects) objects, \(bytes) bytes" }
    }

    public struct Stack {
        public let frames: [UInt64]
        public let total: Counts
        /// By jemalloc thread id (the N of "tN:").
        public let threads: [UInt64: Counts]
    }

    /// `heap_v2/RATE`: the mean sampling interval in bytes (2^lg_prof_sample).
    public let samplingInterval: UInt64
    public let total: Counts
    public let stacks: [Stack]
    /// The text after "MAPPED_LIBRARIES:".
    public let mappedLibraries: String

    public enum Failure: Error { case malformed(String) }

    public init(path: String) throws {
        try self.init(text: String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self))
    }

    public init(text: String) throws {
        let parts = text.components(separatedBy: "\nMAPPED_LIBRARIES:\n")
        mappedLibraries = parts.count > 1 ? parts[1] : ""
        let lines = parts[0].split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard let header = lines.first, header.hasPrefix("heap_v2/"), let interval = UInt64(header.dropFirst(8)) else {
            throw Failure.malformed("no heap_v2 header")
        }
        samplingInterval = interval
        /// "  t*: 155: 224320 [0: 0]" → ("*", counts)
        func counts(_ line: String) throws -> (String, Counts) {
            let fields = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
            guard fields.count >= 3, fields[0].hasPrefix("t"), fields[0].hasSuffix(":"),
                  let objects = UInt64(fields[1].dropLast()), let bytes = UInt64(fields[2]) else {
                throw Failure.malformed("bad counts line '\(line)'")
            }
            return (String(fields[0].dropFirst().dropLast()), Counts(objects: objects, bytes: bytes))
        }
        var total: Counts?
        var stacks: [Stack] = []
        var frames: [UInt64]?
        var stackTotal: Counts?
        var threads: [UInt64: Counts] = [:]
        func finish() {
            if let frames, let stackTotal { stacks.append(Stack(frames: frames, total: stackTotal, threads: threads)) }
            frames = nil
            stackTotal = nil
            threads = [:]
        }
        for line in lines.dropFirst() {
            if line.hasPrefix("@") {
                finish()
                frames = try line.split(separator: " ").dropFirst().map { word in
                    guard word.hasPrefix("0x"), let value = UInt64(word.dropFirst(2), radix: 16) else {
                        throw Failure.malformed("bad frame '\(word)'")
                    }
                    return value
                }
                continue
            }
            let (thread, value) = try counts(line)
            if frames == nil {
                if thread == "*" { total = value }
            } else if thread == "*" {
                stackTotal = value
            } else if let id = UInt64(thread) {
                threads[id] = value
            }
        }
        finish()
        guard let total else { throw Failure.malformed("no total line") }
        self.total = total
        self.stacks = stacks
    }
}
