import Foundation

// heapscan-bench: benchmarks reporting GB/s and ratios against a plain memory-read loop.
// `heapscan-bench [--size 1G] [--repeat N] [--gdb-hits N] [--no-gdb]` runs the scan kernels
// (find, words) on a synthetic core and gdb's find on a sample core, then the pointer census and
// heap-walk benchmarks. `heapscan-bench jemalloc CORE…` times the jemalloc extent-map vote,
// `heapscan-bench pymalloc CORE…` the pymalloc walk;
// `heapscan-bench mark` only the mark phase; `heapscan-bench shapes [--size 1G] [--repeat N]` only
// the dense-hit and high-cardinality rows; `heapscan-bench commands [N]` only `types`, `leaks` and
// `diff` on HEAPSCAN_BENCH_LEAK_CORE against a read of that core (best of N).
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "mark" {
    MarkBench.run()
} else if arguments.first == "shapes" {
    do {
        let options = try BenchOptions(Array(arguments.dropFirst()))
        for shape in [SyntheticHeapCore.Shape.denseMagic, .highCardinality] {
            printTable(try shapeRows(shape, options: options), baseline: nil)
            print("")
        }
    } catch {
        FileHandle.standardError.write(Data("heapscan-bench: \(error)\n".utf8))
        exit(1)
    }
} else if arguments.first == "commands" {
    CommandBench.run(repeats: Int(arguments.dropFirst().first ?? "") ?? 3)
} else if arguments.first == "pymalloc" {
    for path in arguments.dropFirst() {
        do {
            try PymallocBench.run(corePath: path)
        } catch {
            print("pymalloc: \(path): \(error)")
        }
    }
} else if arguments.first == "jemalloc" {
    for path in arguments.dropFirst() {
        do {
            try JemallocVoteBench.run(corePath: path)
        } catch {
            print("jemalloc-vote: \(path): \(error)")
        }
    }
} else {
    do {
        try runScanBench(arguments)
    } catch {
        FileHandle.standardError.write(Data("heapscan-bench: \(error)\n".utf8))
        exit(1)
    }
    print("")
    for line in runCensusBench(repeats: 5) { print(line) }
    HeapWalkBench.run()
    MarkBench.run()
    print("")
    CommandBench.run(repeats: 3)
}
