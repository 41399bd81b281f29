import CProcess
#if canImport(Glibc)
import Glibc
#endif

/// Reads a live process's memory: `process_vm_readv` (one copy, no per-page work), falling
/// back to /proc/PID/mem where that call is unavailable or stops at a page it cannot read.
/// Pages neither can read become zeros and are counted.
final class ProcessMemory {
    let pid: Int32
    private var memDescriptor: Int32 = -2
    private var vectoredReadWorks = true
    private let pageSize = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
    private(set) var unreadableBytes: UInt64 = 0

    init(pid: Int32) {
        self.pid = pid
    }

    deinit {
        if memDescriptor >= 0 { close(memDescriptor) }
    }

    /// Copies `count` bytes at `address` into `destination`.
    func copy(from address: UInt64, count: Int, into destination: UnsafeMutableRawPointer) {
        var done = 0
        while done < count {
            let here = address + UInt64(done)
            let want = count - done
            if vectoredReadWorks {
                let got = vectoredRead(here, want, destination + done)
                if got > 0 {
                    done += got
                    continue
                }
                // Not permitted at all (some sandboxes) or not implemented: stop trying.
                if got < 0 && (errno == ENOSYS || errno == EPERM) { vectoredReadWorks = false }
            }
            let got = fileRead(here, want, destination + done)
            if got > 0 {
                done += got
                continue
            }
            let skip = min(want, pageSize - Int(here % UInt64(pageSize)))
            // The destination is a reused buffer: an unread page must not keep older bytes.
            (destination + done).initializeMemory(as: UInt8.self, repeating: 0, count: skip)
            unreadableBytes += UInt64(skip)
            done += skip
        }
    }

    /// The first `count` bytes at `address`, or nil when they cannot be read.
    func peek(_ address: UInt64, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { vectoredRead(address, count, $0.baseAddress!) }
        return got == count ? bytes : nil
    }

    private func vectoredRead(_ address: UInt64, _ count: Int, _ destination: UnsafeMutableRawPointer) -> Int {
        var local = iovec(iov_base: destination, iov_len: count)
        var remote = iovec(iov_base: UnsafeMutableRawPointer(bitPattern: UInt(address)), iov_len: count)
        return heapscan_process_vm_readv(pid, &local, 1, &remote, 1)
    }

    private func fileRead(_ address: UInt64, _ count: Int, _ destination: UnsafeMutableRawPointer) -> Int {
        if memDescriptor == -2 { memDescriptor = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC) }
        guard memDescriptor >= 0, address <= UInt64(Int64.max) else { return -1 }
        while true {
            let got = pread(memDescriptor, destination, count, off_t(address))
            if got < 0 && errno == EINTR { continue }
            return got
        }
    }
}
