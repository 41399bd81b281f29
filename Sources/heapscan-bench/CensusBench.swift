import Foundation
import ScanKernels

/// The vtable census kernel (`PointerCensus`) against a plain memory-read loop over the same
/// bytes in the same run, single-threaded, on two kinds of heap-like memory (see
/// `CensusWorkload`). Returns the report lines.
func runCensusBench(size: Int = 256 << 20, repeats: Int = 3) -> [String] {
    var lines: [String] = []
    for workload in CensusWorkload.allCases {
        let memory = workload.generate(size: size)
        defer { memory.deallocate() }
        let result = censusBenchCase(UnsafeRawBufferPointer(memory), at: CensusWorkload.heapAddress,
                                     modules: CensusWorkload.modules, repeats: repeats)
        lines.append("census, \(workload.description), \(size >> 20) MiB:")
        lines.append(String(format: "  read loop %6.2f GB/s   census %6.2f GB/s   ratio %.2f   (%d distinct module pointers)",
                            result.readRate, result.censusRate, result.censusRate / result.readRate, result.distinct))
    }
    return lines
}

/// Best-of-`repeats` rates of the read loop and of the census over `bytes` (memory at `address`),
/// counting words that point into `modules`.
func censusBenchCase(_ bytes: UnsafeRawBufferPointer, at address: UInt64, modules: [(start: UInt64, end: UInt64)],
                     repeats: Int) -> (readRate: Double, censusRate: Double, distinct: Int) {
    let filter = AddressFilter(ranges: modules)
    var readBest = Double.infinity
    var censusBest = Double.infinity
    var sink: UInt64 = 0
    var distinct = 0
    for _ in 0..<max(1, repeats) {
        let readStart = DispatchTime.now().uptimeNanoseconds
        sink ^= ReadBaseline.fold(bytes)
        readBest = min(readBest, Double(DispatchTime.now().uptimeNanoseconds - readStart) / 1e9)

        let censusStart = DispatchTime.now().uptimeNanoseconds
        let census = PointerCensus(filter: filter)
        census.scan(bytes, at: address)
        distinct = census.counts.count
        censusBest = min(censusBest, Double(DispatchTime.now().uptimeNanoseconds - censusStart) / 1e9)
    }
    // Keeps the read loop's result alive without printing it.
    if sink == 0x5eed { distinct += 0 }
    let gigabytes = Double(bytes.count) / 1e9
    return (gigabytes / readBest, gigabytes / censusBest, distinct)
}

/// Heap-like memory for the census. `sparse` has the word mix of the synthetic benchmark core
/// (~1% of words one of 20 vtable address points, ~5% heap pointers, the rest small integers
/// and zeros); `dense` is a C++ heap where every chunk (32 to 96 bytes) is a polymorphic object:
/// a size header, a vptr to one of 60 address points, fields, now and then a pointer to one of
/// 4000 globals in module data.
enum CensusWorkload: CaseIterable, CustomStringConvertible {
    case sparse
    case dense

    static let heapAddress: UInt64 = 0x5555_5560_0000
    /// A PIE and five libraries.
    static let modules: [(start: UInt64, end: UInt64)] = [
        (0x5555_5555_4000, 0x5555_5557_0000), (0x7fff_f7a0_0000, 0x7fff_f7c2_0000),
        (0x7fff_f7c3_0000, 0x7fff_f7e1_0000), (0x7fff_f7e2_0000, 0x7fff_f7e9_0000),
        (0x7fff_f7f0_0000, 0x7fff_f7f3_0000), (0x7fff_f7fc_0000, 0x7fff_f7ff_e000),
    ]

    var description: String {
        switch self {
        case .sparse: return "synthetic-core mix (1% vptrs)"
        case .dense: return "dense C++ heap (a vptr per 64 bytes)"
        }
    }

    func generate(size: Int) -> UnsafeMutableBufferPointer<UInt64> {
        let words = size / 8
        let heap = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: words)
        var state: UInt64 = 0x1234_5678
        func random() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        func addresses(_ count: Int) -> [UInt64] {
            (0..<count).map { index in
                let module = Self.modules[index % Self.modules.count]
                return module.start + (random() % (module.end - module.start)) & ~7
            }
        }
        let heapPointer = { (pick: UInt64) in Self.heapAddress + (pick >> 20) % UInt64(size) & ~15 }
        switch self {
        case .sparse:
            let vptrs = addresses(20)
            for index in 0..<words {
                let pick = random()
                switch pick % 1000 {
                case 0..<50: heap[index] = heapPointer(pick)
                case 50..<60: heap[index] = vptrs[Int((pick >> 12) % 20)]
                case 60..<400: heap[index] = (pick >> 20) % 1000
                default: heap[index] = 0
                }
            }
        case .dense:
            let vptrs = addresses(60)
            let globals = addresses(4000)
            var index = 0
            while index < words {
                let chunkWords = 4 + Int(random() % 9)
                heap[index] = UInt64(chunkWords * 8) | 1
                if index + 1 < words { heap[index + 1] = vptrs[Int(random() % UInt64(vptrs.count))] }
                for field in (index + 2)..<min(words, index + chunkWords) {
                    let pick = random()
                    switch pick % 16 {
                    case 0..<6: heap[field] = pick >> 40
                    case 6..<12: heap[field] = heapPointer(pick)
                    case 12: heap[field] = globals[Int(pick >> 8) % globals.count]
                    default: heap[field] = 0
                    }
                }
                index += chunkWords
            }
        }
        return heap
    }
}

