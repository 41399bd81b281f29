import ELFCore

/// One live allocation jemalloc's heap profiler sampled, with the stack that made it.
public struct JemallocSampledAllocation: Sendable, Equatable {
    /// The pointer the program got.
    public let address: UInt64
    /// The usable size (size class), which is what jemalloc's profile counts.
    public let size: UInt64
    /// The size the program asked for.
    public let requestedSize: UInt64
    /// jemalloc's clock (ns) when the allocation was made.
    public let allocationTime: UInt64
    /// jemalloc's id of the allocating thread (the `tN` of a heap dump).
    public let threadUID: UInt64
    /// The `prof_gctx_t` shared by every allocation with this stack.
    public let stackContext: UInt64
    /// Return addresses, innermost first, jemalloc's own frames included (as in its dumps).
    public let frames: [UInt64]
}

/// The sampled allocations of a jemalloc heap: every active large extent whose `edata_t` names a
/// profiling context (`prof_tctx_t`), followed to its `prof_gctx_t` and backtrace. Each pointer
/// is cross-checked before it is followed, and what fails is dropped and counted.
public struct JemallocProfile: Sendable {
    public let allocations: [JemallocSampledAllocation]
    /// True when the process ran with profiling on: a sampled allocation was found, or a large
    /// extent carries the "not sampled" mark jemalloc only writes when profiling.
    public let isEnabled: Bool
    /// Candidate records dropped, by reason.
    public let dropped: [String: Int]
    public let warnings: [String]

    public var droppedCount: Int { dropped.values.reduce(0, +) }

    /// Reads the profile of `heap`. Never traps on damaged records: each one is checked against
    /// the core's writable memory and executable ranges first.
    public static func read(heap: JemallocHeap, core: CoreFile) -> JemallocProfile {
        var reader = Reader(memory: core.addressSpace, segments: core.segments)
        let cached = heap.cachedPointers
        var allocations: [JemallocSampledAllocation] = []
        var enabled = false
        for extent in heap.extents where extent.state == .active && !extent.isSlab {
            // A freed sampled allocation can wait in a thread cache with its old context.
            guard !cached.contains(extent.address), let sizeClass = heap.classes[extent.sizeIndex] else { continue }
            guard let tctx = core.addressSpace.readU64(extent.edata &+ JemallocProfLayout.tctxOffset) else { continue }
            if tctx == 0 { continue }
            if tctx == JemallocProfLayout.unsampledTctx {
                enabled = true
                continue
            }
            guard let sample = reader.sample(edata: extent.edata, address: extent.address, size: sizeClass.size, tctx: tctx) else { continue }
            allocations.append(sample)
        }
        enabled = enabled || !allocations.isEmpty
        var warnings: [String] = []
        if enabled && !reader.dropped.isEmpty {
            let total = reader.dropped.values.reduce(0, +)
            let reasons = reader.dropped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            warnings.append("prof: \(total) sampled allocation\(total == 1 ? "" : "s") dropped (\(reasons))")
        }
        return JemallocProfile(allocations: allocations, isEnabled: enabled, dropped: reader.dropped, warnings: warnings)
    }

    /// Follows tctx → gctx → backtrace with every check; remembers each gctx's verdict, since
    /// thousands of allocations share a few stacks.
    private struct Reader {
        let memory: AddressSpace
        let writable: [Range<UInt64>]
        let executable: [Range<UInt64>]
        var stacks: [UInt64: Result<[UInt64], Rejection>] = [:]
        var dropped: [String: Int] = [:]

        struct Rejection: Error {
            let reason: String
        }

        init(memory: AddressSpace, segments: [Segment]) {
            self.memory = memory
            func ranges(_ permission: Permissions) -> [Range<UInt64>] {
                segments.filter { $0.permissions.contains(permission) }.map { $0.start..<$0.end }.sorted { $0.lowerBound < $1.lowerBound }
            }
            writable = ranges(.write)
            executable = ranges(.execute)
        }

        mutating func sample(edata: UInt64, address: UInt64, size: UInt64, tctx: UInt64) -> JemallocSampledAllocation? {
            do {
                try check(record: tctx, size: JemallocProfLayout.tctxSize, what: "context pointer")
                guard let requested = memory.readU64(edata &+ JemallocProfLayout.requestedSizeOffset),
                      let time = memory.readU64(edata &+ JemallocProfLayout.allocationTimeOffset),
                      let thread = memory.readU64(tctx &+ JemallocProfLayout.tctxThreadUIDOffset),
                      let gctx = memory.readU64(tctx &+ JemallocProfLayout.tctxGctxOffset) else {
                    throw Rejection(reason: "records not in the core")
                }
                guard requested <= size else { throw Rejection(reason: "requested size above the size class") }
                let frames = try stack(gctx: gctx)
                return JemallocSampledAllocation(address: address, size: size, requestedSize: requested, allocationTime: time,
                                                 threadUID: thread, stackContext: gctx, frames: frames)
            } catch let rejection as Rejection {
                dropped[rejection.reason, default: 0] += 1
                return nil
            } catch {
                return nil
            }
        }

        mutating func stack(gctx: UInt64) throws -> [UInt64] {
            if let known = stacks[gctx] { return try known.get() }
            let result: Result<[UInt64], Rejection>
            do {
                result = .success(try readStack(gctx: gctx))
            } catch let rejection as Rejection {
                result = .failure(rejection)
            }
            stacks[gctx] = result
            return try result.get()
        }

        func readStack(gctx: UInt64) throws -> [UInt64] {
            try check(record: gctx, size: JemallocProfLayout.gctxFramesOffset, what: "stack-context pointer")
            guard let vector = memory.readU64(gctx &+ JemallocProfLayout.gctxBacktraceVectorOffset),
                  let length = memory.readU32(gctx &+ JemallocProfLayout.gctxBacktraceLengthOffset) else {
                throw Rejection(reason: "records not in the core")
            }
            guard vector == gctx &+ JemallocProfLayout.gctxFramesOffset else {
                throw Rejection(reason: "backtrace vector not inside its stack context")
            }
            guard length >= 1 && length <= JemallocProfLayout.maxFrames else {
                throw Rejection(reason: "backtrace length outside 1...\(JemallocProfLayout.maxFrames)")
            }
            let count = Int(length)
            guard let bytes = memory.read(vector, count: count * 8),
                  writable.index(containing: vector &+ UInt64(count * 8) &- 1, start: \.lowerBound, end: \.upperBound) != nil else {
                throw Rejection(reason: "backtrace not in the core")
            }
            var frames: [UInt64] = []
            frames.reserveCapacity(count)
            for index in 0..<count {
                var frame: UInt64 = 0
                for byte in 0..<8 { frame |= UInt64(bytes[index * 8 + byte]) << UInt64(byte * 8) }
                guard executable.index(containing: frame, start: \.lowerBound, end: \.upperBound) != nil else {
                    throw Rejection(reason: "return address outside executable code")
                }
                frames.append(frame)
            }
            return frames
        }

        /// A record jemalloc allocated for itself: aligned, and wholly in written memory of the core.
        func check(record: UInt64, size: UInt64, what: String) throws {
            guard record & 7 == 0 else { throw Rejection(reason: "misaligned \(what)") }
            guard writable.index(containing: record, start: \.lowerBound, end: \.upperBound) != nil,
                  memory.isPresent(record, count: Int(size)) else {
                throw Rejection(reason: "\(what) outside writable memory")
            }
        }
    }
}
