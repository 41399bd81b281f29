print("heapscan-bench: no benchmarks yet")
