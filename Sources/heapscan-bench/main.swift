// heapscan-bench: kernel speeds against a plain memory-read loop in the same run.
for line in runCensusBench(repeats: 5) { print(line) }
