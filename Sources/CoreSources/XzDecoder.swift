import CCompression

final class XzDecoder: StreamDecoder {
    private let stream: UnsafeMutablePointer<lzma_stream>

    init() throws {
        stream = .allocate(capacity: 1)
        // A zeroed lzma_stream is LZMA_STREAM_INIT.
        stream.initialize(to: lzma_stream())
        let status = lzma_stream_decoder(stream, UInt64.max, heapscan_lzma_concatenated())
        guard status == LZMA_OK else {
            stream.deallocate()
            throw CoreSourceError("xz: cannot start the decoder (lzma error \(status.rawValue))")
        }
    }

    deinit {
        lzma_end(stream)
        stream.deallocate()
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_in = input.count
        _ = try run(LZMA_RUN, output: output, emit: emit)
    }

    func finish(into output: UnsafeMutableRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        // With LZMA_CONCATENATED only LZMA_FINISH tells the decoder no stream follows.
        guard try run(LZMA_FINISH, output: output, emit: emit) else { throw truncatedStream(.xz) }
    }

    /// Runs the decoder until the input is used up; true when it reports the end of the stream.
    private func run(_ action: lzma_action, output: UnsafeMutableRawBufferPointer,
                     emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        let base = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        while true {
            stream.pointee.next_out = base
            stream.pointee.avail_out = output.count
            let status = lzma_code(stream, action)
            let produced = output.count - stream.pointee.avail_out
            if produced > 0 { try emit(UnsafeRawBufferPointer(start: base, count: produced)) }
            switch status {
            case LZMA_STREAM_END:
                return true
            case LZMA_OK:
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 && action == LZMA_RUN { return false }
            case LZMA_BUF_ERROR:
                // No progress possible: at LZMA_FINISH that means the input ended early.
                if action == LZMA_FINISH { return false }
                if stream.pointee.avail_in == 0 { return false }
                throw corruptStream(.xz, "no progress possible")
            case LZMA_DATA_ERROR, LZMA_FORMAT_ERROR, LZMA_OPTIONS_ERROR:
                throw corruptStream(.xz, Self.describe(status))
            default:
                throw CoreSourceError("xz: \(Self.describe(status))")
            }
        }
    }

    private static func describe(_ status: lzma_ret) -> String {
        switch status {
        case LZMA_DATA_ERROR: return "data is corrupt"
        case LZMA_FORMAT_ERROR: return "not in the xz format"
        case LZMA_OPTIONS_ERROR: return "unsupported options"
        case LZMA_MEM_ERROR: return "out of memory"
        case LZMA_MEMLIMIT_ERROR: return "memory limit reached"
        default: return "lzma error \(status.rawValue)"
        }
    }
}
