import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a per-chunk kernel over a plan on all cores. Each worker owns one `State` (its counters,
/// its hits); nothing is shared in the hot path except one atomic chunk counter.
public enum ParallelScan {
    public static var defaultThreadCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Calls `body(&state, chunk)` for every chunk of `plan`, in parallel, and returns the states
    /// (one per worker, in worker order). With `progress`, a progress line goes to stderr when it
    /// is a terminal and the scan takes more than a second.
    public static func forEachChunk<State>(
        of plan: ScanPlan, threads: Int = defaultThreadCount, progress: Bool = false, label: String = "scanning",
        makeState: (Int) -> State, body: (inout State, ScanPlan.Chunk) -> Void
    ) -> [State] {
        let workers = max(1, min(threads, plan.chunks.count))
        let states = UnsafeMutablePointer<State>.allocate(capacity: workers)
        for worker in 0..<workers { (states + worker).initialize(to: makeState(worker)) }
        defer { states.deallocate() }
        let queue = WorkQueue()
        let reporter = progress ? ProgressLine(total: plan.totalBytes, label: label) : nil
        let chunks = plan.chunks
        func work(_ worker: Int) {
            while true {
                let index = queue.next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < chunks.count else { return }
                body(&states[worker], chunks[index])
                reporter?.advance(UInt64(chunks[index].bytes.count))
            }
        }
        if workers == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: work)
        }
        reporter?.finish()
        return (0..<workers).map { (states + $0).move() }
    }
}

private final class WorkQueue: Sendable {
    let next = Atomic<Int>(0)
}
