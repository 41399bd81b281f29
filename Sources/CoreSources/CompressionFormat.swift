/// The compressed forms cores are kept in, recognised by their magic bytes rather than their
/// names: systemd-coredump writes `.zst` by default, and users pipe cores through any of these.
public enum CompressionFormat: String, Sendable, CaseIterable {
    case zstd
    case xz
    case lz4
    case gzip

    /// The longest magic below; reading this many bytes is enough to decide.
    static let longestMagic = 6

    var magic: [UInt8] {
        switch self {
        case .zstd: return [0x28, 0xB5, 0x2F, 0xFD]
        case .xz: return [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]
        // The lz4 frame format; the legacy format (02 21 4C 18) has no end mark, so a
        // truncated stream could not be told from a whole one.
        case .lz4: return [0x04, 0x22, 0x4D, 0x18]
        case .gzip: return [0x1F, 0x8B]
        }
    }

    /// The format whose magic `prefix` starts with, or nil (an ELF core, or something else).
    static func detect(_ prefix: UnsafeRawBufferPointer) -> CompressionFormat? {
        allCases.first { format in
            let magic = format.magic
            return prefix.count >= magic.count && zip(prefix, magic).allSatisfy { $0 == $1 }
        }
    }

    func makeDecoder() throws -> StreamDecoder {
        switch self {
        case .zstd: return try ZstdDecoder()
        case .xz: return try XzDecoder()
        case .lz4: return try Lz4FrameDecoder()
        case .gzip: return try GzipDecoder()
        }
    }
}
