#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine the analysis runs on.
enum System {
    /// Online processors, for sizing parallel work.
    static let coreCount: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
