/// Why a jemalloc heap could not be read. Messages are one line for a person.
public enum JemallocError: Error, Equatable, CustomStringConvertible {
    case unsupportedLayout(String)
    case extentMapNotFound(String)
    case inconsistent(String)

    public var description: String {
        switch self {
        case .unsupportedLayout(let detail): return "unsupported jemalloc layout: \(detail)"
        case .extentMapNotFound(let detail): return "jemalloc's extent map was not found: \(detail)"
        case .inconsistent(let detail): return "jemalloc's structures in this core are inconsistent, refusing to report: \(detail)"
        }
    }
}
