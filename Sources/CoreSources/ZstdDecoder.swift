import CCompression

final class ZstdDecoder: StreamDecoder {
    private let stream: OpaquePointer
    /// ZSTD_decompressStream's hint: 0 exactly when the last frame is complete.
    private var pending = 0

    init() throws {
        guard let stream = ZSTD_createDStream() else { throw CoreSourceError("zstd: out of memory") }
        self.stream = stream
        ZSTD_initDStream(stream)
    }

    deinit { ZSTD_freeDStream(stream) }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let result = ZSTD_decompressStream(stream, &target, &source)
            if ZSTD_isError(result) != 0 {
                throw corruptStream(.zstd, String(cString: ZSTD_getErrorName(result)))
            }
            pending = result
            if target.pos > 0 { try emit(UnsafeRawBufferPointer(start: output.baseAddress, count: target.pos)) }
            // A full output buffer may leave decoded bytes inside zstd: call again to flush them.
            if source.pos == source.size && target.pos < target.size { return }
        }
    }

    func finish(into output: UnsafeMutableRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if pending != 0 { throw truncatedStream(.zstd) }
    }
}
