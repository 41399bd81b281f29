// The C surface of the four decompressors compressed cores come in: zstd (systemd-coredump's
// default), xz, lz4 frames and gzip, read by CoreSources; and gzip writing, for pprof's
// profile files (PprofEncoding).
#include <zstd.h>
#include <lzma.h>
#include <lz4frame.h>
#include <zlib.h>

// zlib's inflateInit2 is a macro, which Swift cannot call; 16 + MAX_WBITS accepts the gzip
// wrapper only, so a raw deflate stream is not mistaken for a gzip one.
static inline int heapscan_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}

// deflateInit2 is a macro too; 16 + MAX_WBITS writes the gzip wrapper pprof expects.
static inline int heapscan_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}

static inline unsigned heapscan_lz4f_version(void) { return LZ4F_VERSION; }

static inline uint32_t heapscan_lzma_concatenated(void) { return LZMA_CONCATENATED; }
