// heapscan-bench: kernel speeds against a plain memory-read loop in the same run.
for line in runCensusBench() { print(line) }
