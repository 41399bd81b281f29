import Allocators
import ELFCore
import Foundation
import Regions
import Testing
import TestFixtures

/// pymalloc on a real CPython 3.11 core (Samples/pymalloc.py): what the walker finds, without
/// symbols, against what pymalloc itself reported at the stop (`sys._debugmallocstats()`,
/// `sys.getallocatedblocks()`).
@Suite(.enabled(if: PymallocSample.available, "needs gcc, gdb and Debian's python3.11 (make test installs them)"))
struct PymallocSampleTests {
    /// The default population (about 200 k objects built) under gcore and as a kernel core, and
    /// a large one (1.2 M built, 2 M blocks in use, a 160 MB core).
    @Test(arguments: [([String](), false), ([], true), (["150000"], false)])
    func usedBlocksPerSizeClassArePymallocsOwn(_ arguments: [String], kernel: Bool) throws {
        let sample: SampleCore
        do {
            sample = try PymallocSample.core(arguments, kernel: kernel)
        } catch where kernel {
            // make-core exits 3 when this machine cannot write kernel cores; nothing to compare.
            try #require(String(describing: error).contains("exited 3"), "\(error)")
            return
        }
        let heap = try PymallocSample.heap(sample)
        let truth = try #require(sample.truth["pymalloc"] as? [String: Any])
        #expect(heap.detection.interpreterName == "CPython 3.11")
        #expect(heap.warnings.isEmpty, "\(heap.warnings)")
        #expect(heap.usedBlocks == PymallocSample.int(truth, "usedBlocks"))
        #expect(heap.usedBytes == UInt64(PymallocSample.int(truth, "usedBytes") ?? -1))
        // getallocatedblocks adds the blocks PyObject_Malloc passed to malloc (over 512 bytes).
        let allocated = try #require(sample.int("allocatedBlocks"))
        let raw = try #require(sample.int("rawBlocks"))
        #expect(heap.usedBlocks == allocated - raw)
        #expect(heap.arenas.count == PymallocSample.int(truth, "arenas"))
        #expect(heap.layout.poolSize == UInt64(PymallocSample.int(truth, "poolSize") ?? -1))
        #expect(heap.layout.arenaSize == UInt64(PymallocSample.int(truth, "arenaSize") ?? -1))
        var expected: [Int: [Int]] = [:]
        for row in truth["sizeClasses"] as? [[String: Any]] ?? [] {
            expected[PymallocSample.int(row, "sizeClass") ?? -1] = ["size", "pools", "used", "available"].map { PymallocSample.int(row, $0) ?? -1 }
        }
        var found: [Int: [Int]] = [:]
        for sizeClass in heap.sizeClasses where sizeClass.pools > 0 {
            found[sizeClass.index] = [Int(sizeClass.blockSize), sizeClass.pools, sizeClass.usedBlocks, sizeClass.availableBlocks]
        }
        #expect(found == expected)
        // The population is there: at least the sample's own objects of each kind are in use.
        let population = (sample.truth["population"] as? [String: Any] ?? [:]).values.compactMap { ($0 as? NSNumber)?.intValue }
        #expect(population.count == 8 && heap.usedBlocks > population.reduce(0, +))
    }

    @Test func allocationTableHoldsPymallocBlocksBesideGlibcChunks() throws {
        let sample = try PymallocSample.core()
        let core = try CoreFile(path: sample.path)
        let regions = RegionMap(core: core)
        let heap = try #require(PymallocHeap.read(core: core, regions: regions))
        let table = ProcessAllocator.allocationTable(core: core, regions: regions)
        let glibc = GlibcHeap.walk(core: core, regions: regions).table
        #expect(table.allocator.hasPrefix("glibc 2.") && table.allocator.hasSuffix(" and pymalloc (CPython 3.11)"))
        let allocations = Array(table.allocations)
        #expect(zip(allocations, allocations.dropFirst()).allSatisfy { $0.end <= $1.address })
        let arenaNames = Set(table.arenas.enumerated().filter { $0.element.hasPrefix("pymalloc arena") }.map { Int32($0.offset) })
        let pymallocUsed = allocations.filter { $0.isUsed && arenaNames.contains($0.arena) }
        #expect(pymallocUsed.count == heap.usedBlocks)
        #expect(pymallocUsed.reduce(UInt64(0)) { $0 + $1.blockSize } == heap.usedBytes)
        // Debian's 3.11 maps its arenas itself: no glibc chunk holds one, every glibc chunk stays.
        let holding = glibc.allocations.filter { chunk in heap.arenas.contains { $0.range.overlaps(chunk.address..<chunk.end) } }
        #expect(holding.isEmpty, "\(holding.map { "\(hex($0.address)) +\($0.blockSize)" }) \(heap.arenas.map { "\(hex($0.range.lowerBound))-\(hex($0.range.upperBound))" })")
        #expect(allocations.count - allocations.filter { arenaNames.contains($0.arena) }.count == glibc.allocations.count)
        #expect(!table.warnings.contains { $0.contains("hold pymalloc") })
        // Every carved block is listed once: used ones, and free ones on their pool's free list.
        #expect(allocations.filter { arenaNames.contains($0.arena) }.count == heap.pools.reduce(0) { $0 + $1.carved })
    }

    @Test func cCoresHaveNoPymalloc() throws {
        let sample = try SampleCores.core("mallocsizes")
        let core = try CoreFile(path: sample.path)
        #expect(PymallocHeap.read(core: core, regions: RegionMap(core: core)) == nil)
    }
}

/// The pymalloc sample's core and helpers shared by its tests.
enum PymallocSample {
    static let python = "/usr/bin/python3.11"
    static var available: Bool { SampleCores.canMakeCores && FileManager.default.isExecutableFile(atPath: python) }

    static func core(_ arguments: [String] = [], kernel: Bool = false) throws -> SampleCore {
        try SampleCores.core("pymalloc", arguments, kernel: kernel)
    }

    static func heap(_ sample: SampleCore) throws -> PymallocHeap {
        try heap(path: sample.path)
    }

    static func heap(path: String) throws -> PymallocHeap {
        let core = try CoreFile(path: path)
        return try #require(PymallocHeap.read(core: core, regions: RegionMap(core: core)))
    }

    static func int(_ object: [String: Any], _ key: String) -> Int? { (object[key] as? NSNumber)?.intValue }
}
