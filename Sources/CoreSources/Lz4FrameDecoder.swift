import CCompression

final class Lz4FrameDecoder: StreamDecoder {
    private let context: OpaquePointer
    /// LZ4F_decompress's hint: 0 exactly when the last frame is complete.
    private var pending = 0

    init() throws {
        var context: OpaquePointer?
        let status = LZ4F_createDecompressionContext(&context, heapscan_lz4f_version())
        guard LZ4F_isError(status) == 0, let context else {
            throw CoreSourceError("lz4: cannot start the decoder")
        }
        self.context = context
    }

    deinit { LZ4F_freeDecompressionContext(context) }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var consumed = 0
        while true {
            var produced = output.count
            var taken = input.count - consumed
            let hint = LZ4F_decompress(context, output.baseAddress, &produced,
                                       input.baseAddress.map { $0 + consumed }, &taken, nil)
            if LZ4F_isError(hint) != 0 {
                throw corruptStream(.lz4, String(cString: LZ4F_getErrorName(hint)))
            }
            pending = hint
            consumed += taken
            if produced > 0 { try emit(UnsafeRawBufferPointer(start: output.baseAddress, count: produced)) }
            if consumed == input.count && produced < output.count { return }
            if taken == 0 && produced == 0 { throw corruptStream(.lz4, "no progress possible") }
        }
    }

    func finish(into output: UnsafeMutableRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if pending != 0 { throw truncatedStream(.lz4) }
    }
}
