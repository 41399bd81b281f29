/// jemalloc 5.3's heap-profiling records (`--enable-prof`), x86-64, as measured in cores of
/// Debian's libjemalloc2 run with `MALLOC_CONF=prof:true`.
enum JemallocProfLayout {
    /// `edata_t.e_prof_info` shares the union after the pairing-heap link with the slab bitmap:
    /// allocation time (ns), requested size, `prof_tctx_t *`, recent-allocation record.
    static let allocationTimeOffset: UInt64 = 64
    static let requestedSizeOffset: UInt64 = 72
    static let tctxOffset: UInt64 = 80

    /// What `prof_tctx_reset` stores in a large extent whose allocation was not sampled.
    static let unsampledTctx: UInt64 = 1

    /// `prof_tctx_t`: tdata, thr_uid, thr_discrim, recent_count, eight `prof_cnt_t` counters,
    /// then the `prof_gctx_t *`.
    static let tctxSize: UInt64 = 200
    static let tctxThreadUIDOffset: UInt64 = 8
    static let tctxCurrentObjectsOffset: UInt64 = 32
    static let tctxGctxOffset: UInt64 = 96

    /// `prof_gctx_t`: lock, nlimbo, tctx tree, dump link, summed counters, then the backtrace
    /// `prof_bt_t { void **vec; unsigned len; }` whose vector is the gctx's own trailing array.
    static let gctxBacktraceVectorOffset: UInt64 = 104
    static let gctxBacktraceLengthOffset: UInt64 = 112
    static let gctxFramesOffset: UInt64 = 120

    /// `PROF_BT_MAX`: jemalloc never records deeper stacks.
    static let maxFrames: UInt32 = 128
}
