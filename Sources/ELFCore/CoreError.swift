/// Why a core file cannot be used. Every message is written for a person reading one line
/// in a terminal: it names what is wrong and, where useful, the numbers that disagree.
public enum CoreError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(reason: String)
    case notELF
    case unsupportedClass(UInt8)
    case unsupportedByteOrder(UInt8)
    case notACore(elfType: UInt16)
    case unsupportedMachine(UInt16)
    case truncated(what: String, needed: UInt64, fileSize: UInt64)
    case malformed(String)
    case changedWhileRead

    public var description: String {
        switch self {
        case .cannotOpen(let reason):
            return "cannot open: \(reason)"
        case .notELF:
            return "not an ELF file (bad magic)"
        case .unsupportedClass(let elfClass):
            return elfClass == 1
                ? "32-bit ELF is not supported (only ELF64 cores)"
                : "unknown ELF class \(elfClass)"
        case .unsupportedByteOrder(let data):
            return data == 2
                ? "big-endian ELF is not supported (only little-endian cores)"
                : "unknown ELF byte order \(data)"
        case .notACore(let elfType):
            let kind: String
            switch elfType {
            case 1: kind = "a relocatable object"
            case 2: kind = "an executable"
            case 3: kind = "a shared object or PIE executable"
            default: kind = "ELF type \(elfType)"
            }
            return "not a core file (it is \(kind))"
        case .unsupportedMachine(let machine):
            return "unsupported machine \(machine) (only x86-64 and aarch64)"
        case .truncated(let what, let needed, let fileSize):
            return "truncated: \(what) needs \(needed) bytes but the file has \(fileSize)"
        case .malformed(let detail):
            return "malformed core: \(detail)"
        case .changedWhileRead:
            return "changed size while being read"
        }
    }
}
