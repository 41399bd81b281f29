import CElfutils
import Foundation

/// Module files this machine lacks, fetched by build-id from the servers in `DEBUGINFOD_URLS`
/// with elfutils' own client, which caches them where elfutils always does
/// (`$DEBUGINFOD_CACHE_PATH`, else `~/.cache/debuginfod_client`). Separate debuginfo needs
/// nothing here: libdwfl's standard `find_debuginfo` asks the same servers by itself.
enum DebuginfodClient {
    /// The cached path of the executable or library with `buildID`, or nil when no server is
    /// configured or none has it.
    static func executable(buildID: BuildID) -> String? {
        guard let urls = getenv("DEBUGINFOD_URLS"), urls.pointee != 0, !buildID.bytes.isEmpty,
              let client = debuginfod_begin() else { return nil }
        defer { debuginfod_end(client) }
        var path: UnsafeMutablePointer<CChar>?
        let descriptor = buildID.bytes.withUnsafeBufferPointer {
            debuginfod_find_executable(client, $0.baseAddress, Int32($0.count), &path)
        }
        guard descriptor >= 0 else { return nil }
        close(descriptor)
        defer { free(path) }
        return path.map { String(cString: $0) }
    }
}
