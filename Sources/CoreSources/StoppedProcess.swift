import CProcess
import Foundation

/// Every thread of a live process held in a ptrace stop: seized (`PTRACE_SEIZE`, which unlike
/// PTRACE_ATTACH sends no SIGSTOP the process could observe) and interrupted one by one, until a
/// fresh listing of /proc/PID/task shows no thread that is not held. `detach` resumes them all;
/// it runs from `deinit` too, so no error path leaves the process stopped.
final class StoppedProcess {
    struct Thread {
        let tid: Int32
        /// A signal the thread was about to receive when it stopped; handed back on detach.
        var pendingSignal: Int32
    }

    let pid: Int32
    private(set) var threads: [Thread] = []
    private let stoppedAt: Double
    private(set) var stoppedSeconds: Double?

    init(pid: Int32, timeout: Double = 10) throws {
        self.pid = pid
        stoppedAt = Progress.now()
        let deadline = stoppedAt + timeout
        var seen = Set<Int32>()
        do {
            while true {
                let fresh = try Self.threadIDs(pid).filter { !seen.contains($0) }
                if fresh.isEmpty { break }
                var seized: [Int32] = []
                for tid in fresh {
                    seen.insert(tid)
                    if heapscan_ptrace(Int32(heapscan_ptrace_seize), tid, nil, nil) != 0 {
                        let code = errno
                        if code == ESRCH { continue }  // the thread ended meanwhile
                        throw Self.seizeError(pid: pid, code: code)
                    }
                    seized.append(tid)
                    threads.append(Thread(tid: tid, pendingSignal: 0))
                    _ = heapscan_ptrace(Int32(heapscan_ptrace_interrupt), tid, nil, nil)
                }
                for tid in seized { try waitForStop(tid, deadline: deadline) }
            }
            guard !threads.isEmpty else { throw CoreSourceError("the process has no threads left to stop") }
            // The thread the kernel would name first: the thread-group leader.
            threads.sort { ($0.tid == pid ? 0 : 1, $0.tid) < ($1.tid == pid ? 0 : 1, $1.tid) }
        } catch {
            detach()
            throw error
        }
    }

    deinit { detach() }

    /// Resumes every thread; returns how long the process was held. Idempotent.
    @discardableResult
    func detach() -> Double {
        if let stoppedSeconds { return stoppedSeconds }
        for thread in threads {
            _ = heapscan_ptrace(Int32(heapscan_ptrace_detach), thread.tid, nil,
                                UnsafeMutableRawPointer(bitPattern: Int(thread.pendingSignal)))
        }
        let seconds = Progress.now() - stoppedAt
        stoppedSeconds = seconds
        return seconds
    }

    /// The thread's general registers (`PTRACE_GETREGSET NT_PRSTATUS`), as the core's
    /// NT_PRSTATUS holds them.
    func registers(of tid: Int32) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = try buffer.withUnsafeMutableBytes { bytes -> Int in
            var vector = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
            let result = heapscan_ptrace(Int32(heapscan_ptrace_getregset), tid,
                                         UnsafeMutableRawPointer(bitPattern: Int(heapscan_nt_prstatus)), &vector)
            guard result == 0 else { throw CoreSourceError.errno("cannot read the registers of thread \(tid)") }
            return vector.iov_len
        }
        return Array(buffer.prefix(count))
    }

    private func waitForStop(_ tid: Int32, deadline: Double) throws {
        var status: Int32 = 0
        while true {
            let result = waitpid(tid, &status, WNOHANG | Int32(heapscan_wait_all))
            if result == tid { break }
            if result < 0 {
                if errno == EINTR { continue }
                if errno == ECHILD { return forget(tid) }
                throw CoreSourceError.errno("waiting for thread \(tid) to stop")
            }
            if Progress.now() > deadline {
                throw CoreSourceError("thread \(tid) did not stop within \(Int(deadline - stoppedAt)) s (uninterruptible sleep?); the process was resumed")
            }
            usleep(100)
        }
        let stopped = status & 0xff == 0x7f
        guard stopped else { return forget(tid) }  // it exited while being stopped
        let signal = (status >> 8) & 0xff
        let event = status >> 16
        // Event 0 is a signal-delivery stop: the signal was on its way and must still arrive.
        if event == 0, let index = threads.firstIndex(where: { $0.tid == tid }) {
            threads[index].pendingSignal = signal
        }
    }

    private func forget(_ tid: Int32) {
        threads.removeAll { $0.tid == tid }
    }

    static func threadIDs(_ pid: Int32) throws -> [Int32] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").compactMap { Int32($0) }.sorted()
        } catch {
            throw CoreSourceError("no such process")
        }
    }

    static func seizeError(pid: Int32, code: Int32) -> CoreSourceError {
        if code == EPERM {
            return CoreSourceError("not permitted to stop the process (ptrace): run as its user with kernel.yama.ptrace_scope 0, or with CAP_SYS_PTRACE; a process already being traced (gdb, strace) cannot be")
        }
        return CoreSourceError("cannot stop the process (ptrace): \(SystemError.text(code))")
    }
}
