import Allocators
import ELFCore

/// jemalloc's heap profile in a core, for commands that mention it on the side (`leaks`, `show`):
/// nil when the process did not use jemalloc, its heap cannot be read, or it ran without profiling.
struct CoreProfile {
    let heap: JemallocHeap
    let profile: JemallocProfile

    /// `heap`: jemalloc's heap as the leak analysis read it (nil when the process did not use jemalloc).
    init?(_ core: CoreFile, heap: JemallocHeap?) {
        guard let heap else { return nil }
        let profile = JemallocProfile.read(heap: heap, core: core)
        guard profile.isEnabled else { return nil }
        self.heap = heap
        self.profile = profile
    }

    /// Address ranges of jemalloc's own code, whose leading frames say nothing about the caller.
    var allocatorCode: [ClosedRange<UInt64>] { heap.detection.libraryPath == nil ? [] : heap.detection.moduleRanges }
}
