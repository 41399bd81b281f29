import CCompression

final class GzipDecoder: StreamDecoder {
    private let stream: UnsafeMutablePointer<z_stream>
    /// True between the end of one gzip member and the start of the next.
    private var atMemberEnd = false

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard heapscan_inflate_init_gzip(stream) == Z_OK else {
            stream.deallocate()
            throw CoreSourceError("gzip: cannot start the decoder")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        // zlib counts in 32 bits; a chunk never comes near that (the reader's buffer is small).
        precondition(input.count <= Int(UInt32.max), "input chunk larger than zlib can take")
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        let base = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let capacity = UInt32(min(output.count, Int(UInt32.max)))
        while true {
            if atMemberEnd {
                guard stream.pointee.avail_in > 0 else { return }
                // gzip files may hold several members, as `cat a.gz b.gz` makes.
                inflateReset(stream)
                atMemberEnd = false
            }
            stream.pointee.next_out = base
            stream.pointee.avail_out = capacity
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = Int(capacity - stream.pointee.avail_out)
            if produced > 0 { try emit(UnsafeRawBufferPointer(start: base, count: produced)) }
            switch status {
            case Z_STREAM_END:
                atMemberEnd = true
            case Z_OK, Z_BUF_ERROR:
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
                if status == Z_BUF_ERROR { throw corruptStream(.gzip, "no progress possible") }
            default:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw corruptStream(.gzip, detail)
            }
        }
    }

    func finish(into output: UnsafeMutableRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !atMemberEnd { throw truncatedStream(.gzip) }
    }
}
