import CElfutils

/// One frame of a thread's stack, as libdwfl's unwinder finds it in the core.
public struct StackFrame: Sendable {
    public let number: Int
    public let pc: UInt64
    /// The frame's stack pointer: its locals lie from here up to the caller's stack pointer.
    public let stackPointer: UInt64
    /// "worker_main(Shard&)+0x3c in service", when a module's symbols cover the pc.
    public let function: String?
}

extension ModuleSet {
    /// The stack pointer's DWARF register number.
    private static var stackPointerRegister: UInt32 {
        #if arch(arm64)
        31
        #else
        7
        #endif
    }

    /// Deeper stacks are cut here: a damaged stack can make the unwinder loop.
    static let maximumFrames = 256

    /// The frames of thread `tid`, innermost first; empty when the unwinder cannot start (no
    /// thread notes, no CFI for the innermost pc). The unwinder reads registers from the core's
    /// notes and the call frame information from the module files found.
    public func stackFrames(ofThread tid: Int32) -> [StackFrame] {
        if let known = framesByThread[tid] { return known }
        if threadsAttached == nil { threadsAttached = dwfl_core_file_attach(fileSession.handle, coreElf) >= 0 }
        guard threadsAttached == true else { return [] }
        final class Collector {
            var frames: [(pc: UInt64, stackPointer: UInt64)] = []
        }
        let collector = Collector()
        _ = dwfl_getthread_frames(fileSession.handle, pid_t(tid), { state, context in
            guard let state, let context else { return Int32(DWARF_CB_ABORT) }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            var pc: Dwarf_Addr = 0
            var isActivation = false
            var stackPointer: Dwarf_Word = 0
            guard dwfl_frame_pc(state, &pc, &isActivation),
                  dwfl_frame_reg(state, ModuleSet.stackPointerRegister, &stackPointer) == 0 else { return Int32(DWARF_CB_ABORT) }
            // A return address points after the call: the call itself is one byte before.
            collector.frames.append((isActivation || pc == 0 ? pc : pc - 1, stackPointer))
            return collector.frames.count < ModuleSet.maximumFrames ? Int32(DWARF_CB_OK) : Int32(DWARF_CB_ABORT)
        }, Unmanaged.passUnretained(collector).toOpaque())
        let frames = collector.frames.enumerated().map { number, frame in
            StackFrame(number: number, pc: frame.pc, stackPointer: frame.stackPointer, function: symbolize(frame.pc))
        }
        framesByThread[tid] = frames
        return frames
    }

    /// The frame of thread `tid` whose locals hold `address`: the innermost frame whose stack
    /// pointer is at or below it (stacks grow down, callers sit higher).
    public func frame(ofThread tid: Int32, holding address: UInt64) -> StackFrame? {
        stackFrames(ofThread: tid).last { $0.stackPointer <= address }
    }
}
