import CElfutils
import Foundation

/// One libdwfl session: the `Dwfl` handle and the callbacks struct it keeps a pointer to, both
/// alive exactly as long as this object.
final class DwflSession {
    let handle: OpaquePointer
    private let callbacks: UnsafeMutablePointer<Dwfl_Callbacks>
    private let debuginfoPath: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

    /// heapscan locates module files itself and reports them with `dwfl_report_elf`, so libdwfl
    /// is never asked to find one; separate debuginfo it finds along `debuginfoPath`.
    init(debuginfoPath path: String) throws {
        debuginfoPath = .allocate(capacity: 1)
        debuginfoPath.initialize(to: strdup(path))
        callbacks = .allocate(capacity: 1)
        callbacks.initialize(to: Dwfl_Callbacks(
            find_elf: { _, _, _, _, _, _ in -1 },
            find_debuginfo: dwfl_standard_find_debuginfo,
            section_address: dwfl_offline_section_address,
            debuginfo_path: debuginfoPath))
        guard let handle = dwfl_begin(callbacks) else {
            free(debuginfoPath.pointee)
            debuginfoPath.deallocate()
            callbacks.deallocate()
            throw ModuleSet.Failure.libdwfl(ModuleSet.lastError())
        }
        self.handle = handle
    }

    deinit {
        dwfl_end(handle)
        free(debuginfoPath.pointee)
        debuginfoPath.deallocate()
        callbacks.deallocate()
    }

    /// Every module reported, with its start address.
    func modules() -> [(handle: OpaquePointer, start: UInt64)] {
        final class Collector { var found: [(handle: OpaquePointer, start: UInt64)] = [] }
        let collector = Collector()
        _ = dwfl_getmodules(handle, { module, _, _, start, context in
            if let module, let context {
                Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue().found.append((module, start))
            }
            return Int32(DWARF_CB_OK)
        }, Unmanaged.passUnretained(collector).toOpaque(), 0)
        return collector.found
    }
}
