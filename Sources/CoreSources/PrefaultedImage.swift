#if canImport(Glibc)
import Glibc
#endif

/// The file a core image is written into, mapped writable with its pages allocated and mapped
/// before the process is stopped. Allocating and faulting in pages costs more than copying into
/// them (measured in a VM, 1 GB: process_vm_readv into fresh pages of a memory file 5.2 s, into
/// pages faulted in beforehand 0.5 s; through a buffer and pwrite 1.4 s), so `posix_fallocate`
/// and MAP_POPULATE pay for them while the process still runs, from an estimate of the image
/// size; under stop the memory is then copied once, straight into place.
final class PrefaultedImage {
    let descriptor: Int32
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity: UInt64 = 0

    init(descriptor: Int32, capacity: UInt64) throws {
        self.descriptor = descriptor
        try ensure(capacity)
    }

    deinit { unmap() }

    /// Makes at least `size` bytes mapped; growing it under stop costs time, once.
    func ensure(_ size: UInt64) throws {
        guard size > capacity else { return }
        unmap()
        guard size <= UInt64(Int.max), ftruncate(descriptor, off_t(size)) == 0 else {
            throw CoreSourceError.errno("no room for a core image of \(size) bytes (use --tmpdir DIR)")
        }
        let status = posix_fallocate(descriptor, 0, off_t(size))
        // Filesystems without fallocate still work, page by page.
        guard status == 0 || status == EOPNOTSUPP || status == EINVAL else {
            throw CoreSourceError("no room for a core image of \(size) bytes: \(SystemError.text(status)) (use --tmpdir DIR)")
        }
        guard let mapped = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, descriptor, 0),
              mapped != MAP_FAILED else {
            throw CoreSourceError.errno("cannot map a core image of \(size) bytes")
        }
        base = mapped
        capacity = size
    }

    /// Unmaps and cuts the file to the image's exact size.
    func finish(size: UInt64) throws {
        unmap()
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw CoreSourceError.errno("cannot size the core image") }
    }

    private func unmap() {
        if let base { munmap(base, Int(capacity)) }
        base = nil
        capacity = 0
    }
}
