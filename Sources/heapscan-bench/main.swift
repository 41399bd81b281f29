// heapscan-bench: benchmarks reporting GB/s and ratios against a plain memory-read loop.
// `heapscan-bench jemalloc CORE…` times the jemalloc extent-map vote on each core;
// `heapscan-bench census` runs only the vtable census.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "jemalloc" {
    for path in arguments.dropFirst() {
        do {
            try JemallocVoteBench.run(corePath: path)
        } catch {
            print("jemalloc-vote: \(path): \(error)")
        }
    }
} else if arguments.first == "census" {
    for line in runCensusBench(repeats: 5) { print(line) }
} else {
    for line in runCensusBench(repeats: 5) { print(line) }
    HeapWalkBench.run()
    for line in runCensusBench(repeats: 5) { print(line) }
}
