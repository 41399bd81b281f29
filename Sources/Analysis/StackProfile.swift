import Allocators
import ELFCore
import Foundation

/// jemalloc's sampled live allocations grouped by the stack that made them, with how many of
/// each stack's objects the leak analysis finds leaked: "who allocated what leaks".
public struct StackProfile: Sendable {
    public struct ThreadCount: Sendable, Equatable {
        public let threadUID: UInt64
        public var objects: Int
        public var bytes: UInt64
    }

    public struct Stack: Sendable {
        /// Return addresses, innermost first, as jemalloc recorded them.
        public let frames: [UInt64]
        /// Where the program's own frames start: the leading frames inside the allocator itself
        /// (its backtrace and malloc entry points) say nothing about the caller.
        public let firstCallerFrame: Int
        public var objects = 0
        /// Usable bytes (size classes), what jemalloc's profile counts.
        public var bytes: UInt64 = 0
        public var requestedBytes: UInt64 = 0
        public var leakedObjects = 0
        public var leakedBytes: UInt64 = 0
        /// Per allocating thread, by jemalloc's thread id, ascending.
        public var threads: [ThreadCount] = []

        public var callerFrames: ArraySlice<UInt64> { frames[firstCallerFrame...] }

        /// The live objects and bytes the samples stand for when one allocation is sampled per
        /// 2^`lgSample` bytes on average: jeprof's correction, from the stack's mean size
        /// (an allocation of `size` bytes is sampled with probability 1 − e^(−size/rate)).
        public func estimate(lgSample: Int) -> (objects: Double, bytes: Double) {
            guard objects > 0 else { return (0, 0) }
            let rate = Double(UInt64(1) << UInt64(min(max(lgSample, 0), 62)))
            let scale = 1 / (1 - exp(-(Double(bytes) / Double(objects)) / rate))
            return (Double(objects) * scale, Double(bytes) * scale)
        }
    }

    /// Ranked by bytes, then objects, then frames (a stable order for equal stacks).
    public let stacks: [Stack]
    public let sampledAllocations: Int
    /// Sampled allocations the allocation table does not hold as used (their liveness is unknown).
    public let notInTable: Int
    public let warnings: [String]

    /// `allocatorCode`: address ranges of the allocator's library, whose leading frames are
    /// skipped when naming the caller (empty when jemalloc is linked into the executable).
    public init(profile: JemallocProfile, table: AllocationTable?, reachability: Reachability?,
                allocatorCode: [ClosedRange<UInt64>]) {
        var byStack: [[UInt64]: Stack] = [:]
        var missing = 0
        for sample in profile.allocations {
            var stack = byStack[sample.frames] ?? Stack(frames: sample.frames,
                                                        firstCallerFrame: Self.firstCallerFrame(sample.frames, allocatorCode))
            stack.objects += 1
            stack.bytes &+= sample.size
            stack.requestedBytes &+= sample.requestedSize
            if let index = stack.threads.firstIndex(where: { $0.threadUID == sample.threadUID }) {
                stack.threads[index].objects += 1
                stack.threads[index].bytes &+= sample.size
            } else {
                stack.threads.append(ThreadCount(threadUID: sample.threadUID, objects: 1, bytes: sample.size))
            }
            if let table, let index = table.index(containing: sample.address),
               table.allocations[index].address == sample.address, table.allocations[index].isUsed {
                if reachability?.liveness(ofAllocationAt: index)?.isLeaked == true {
                    stack.leakedObjects += 1
                    stack.leakedBytes &+= sample.size
                }
            } else {
                missing += 1
            }
            byStack[sample.frames] = stack
        }
        stacks = byStack.values.map { stack in
            var sorted = stack
            sorted.threads.sort { $0.threadUID < $1.threadUID }
            return sorted
        }.sorted { a, b in
            if a.bytes != b.bytes { return a.bytes > b.bytes }
            if a.objects != b.objects { return a.objects > b.objects }
            return a.frames.lexicographicallyPrecedes(b.frames)
        }
        sampledAllocations = profile.allocations.count
        notInTable = missing
        var warnings = profile.warnings
        if missing > 0 {
            warnings.append("prof: \(missing) sampled allocation\(missing == 1 ? " is" : "s are") not a used allocation of the heap walk; counted as anchored")
        }
        self.warnings = warnings
    }

    /// Index of the first frame outside `allocatorCode` (0 when every frame is inside).
    public static func firstCallerFrame(_ frames: [UInt64], _ allocatorCode: [ClosedRange<UInt64>]) -> Int {
        let inside = frames.prefix { frame in allocatorCode.contains { $0.contains(frame) } }.count
        return inside < frames.count ? inside : 0
    }
}
