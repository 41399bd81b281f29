print("heapscan-bench: no benchmarks yet")
HeapWalkBench.run()
