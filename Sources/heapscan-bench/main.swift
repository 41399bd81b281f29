// heapscan-bench: the heap-walk benchmarks; `heapscan-bench jemalloc CORE…` times the jemalloc
// extent-map vote and walk on given cores instead.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "jemalloc" {
    for path in arguments.dropFirst() {
        do {
            try JemallocVoteBench.run(corePath: path)
        } catch {
            print("jemalloc-vote: \(path): \(error)")
        }
    }
} else {
    HeapWalkBench.run()
}
