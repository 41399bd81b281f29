#if canImport(Glibc)
import Glibc
#endif

enum SystemError {
    /// `strerror(errno)`, read before anything else can change errno.
    static func text(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
