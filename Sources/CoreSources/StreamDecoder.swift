/// One decompressor, fed the compressed input in chunks. Each decoder accepts concatenated
/// streams (frames, members) as its command-line tool does, and refuses to finish in the
/// middle of one, so a truncated file is never a silently shorter core.
protocol StreamDecoder: AnyObject {
    /// Decodes all of `input`, handing each filled part of `output` to `emit`.
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                emit: (UnsafeRawBufferPointer) throws -> Void) throws

    /// Called at the end of the input: flushes what is left and throws when the last stream
    /// is incomplete.
    func finish(into output: UnsafeMutableRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// The error a decoder reports for data it cannot decode.
func corruptStream(_ format: CompressionFormat, _ detail: String) -> CoreSourceError {
    CoreSourceError("corrupt \(format.rawValue) stream: \(detail)")
}

/// The error for input that ends inside a stream.
func truncatedStream(_ format: CompressionFormat) -> CoreSourceError {
    var error = CoreSourceError("truncated \(format.rawValue) stream: the input ends inside it")
    error.isTruncation = true
    return error
}
