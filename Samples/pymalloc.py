"""pymalloc sample: CPython objects of known kinds in pymalloc's pools, and pymalloc's own
statistics at the stop, for Samples/make-core (run by Debian's python3.11).

Usage: python3.11 Samples/pymalloc.py [COUNT]   (COUNT per kind, default 25000)

Builds COUNT each of: instances of Node (a class with an instance dict) and of Point (a class
with __slots__), dicts, lists, tuples, strs, floats and ints that are not cached small ints;
then drops every third of each kind, leaving free blocks between used ones in the pools.

The figures are measured right before SIGSTOP by code that allocates nothing net, so they
describe the memory the core holds; the truth JSON is written only after the process is
continued (make-core continues it once the core is taken), since printing allocates:
  allocatedBlocks     sys.getallocatedblocks(): pymalloc's blocks in use plus the blocks
                      PyObject_Malloc handed to the system malloc (requests over 512 bytes)
  pymalloc            sys._debugmallocstats() parsed: per size class the pools, the blocks in
                      use and the available blocks; arenas; unused pools
  rawBlocks           allocatedBlocks minus pymalloc's blocks in use
  instances           live instances of the sample's classes, by exact type, from gc.get_objects()
"""
import gc
import json
import os
import re
import signal
import sys
import tempfile


class Node:
    def __init__(self, key, label):
        self.key = key
        self.label = label


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def build(count):
    base = 1 << 20
    kinds = {
        "Node": [Node(base + i, "n%d" % i) for i in range(count)],
        "Point": [Point(float(i), float(-i)) for i in range(count)],
        "dict": [{"k": base + i} for i in range(count)],
        "list": [[i, -i] for i in range(count)],
        "tuple": [(base + i, -i) for i in range(count)],
        "str": ["s%07d" % i for i in range(count)],
        "float": [i + 0.25 for i in range(count)],
        "int": [base * 3 + i for i in range(count)],
    }
    # Holes: every third object of each kind is freed.
    return {name: [obj for index, obj in enumerate(objects) if index % 3 != 2] for name, objects in kinds.items()}


def parse_malloc_stats(text):
    classes = []
    row = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
    for line in text.splitlines():
        match = row.match(line)
        if match:
            index, size, pools, used, available = map(int, match.groups())
            classes.append({"sizeClass": index, "size": size, "pools": pools, "used": used, "available": available})

    def figure(label):
        match = re.search(r"^" + re.escape(label) + r"\s*=\s*([\d,]+)\s*$", text, re.MULTILINE)
        return int(match.group(1).replace(",", "")) if match else None

    unused = re.search(r"^(\d+) unused pools \* (\d+) bytes", text, re.MULTILINE)
    arenas = re.search(r"^(\d+) arenas \* (\d+) bytes/arena", text, re.MULTILINE)
    return {
        "sizeClasses": classes,
        "usedBlocks": sum(c["used"] for c in classes),
        "usedBytes": sum(c["used"] * c["size"] for c in classes),
        "availableBlocks": sum(c["available"] for c in classes),
        "usedPools": sum(c["pools"] for c in classes),
        "unusedPools": int(unused.group(1)) if unused else None,
        "poolSize": int(unused.group(2)) if unused else None,
        "arenas": int(arenas.group(1)) if arenas else figure("# arenas allocated current"),
        "arenaSize": int(arenas.group(2)) if arenas else None,
        "bytesInAllocatedBlocks": figure("# bytes in allocated blocks"),
    }


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 25000
    population = build(count)
    instances = {"Node": 0, "Point": 0}
    for obj in gc.get_objects():
        name = type(obj).__name__
        if type(obj) in (Node, Point):
            instances[name] += 1
    gc.collect()
    gc.disable()

    stats = tempfile.TemporaryFile()
    stats_fd = stats.fileno()
    saved_stderr = os.dup(2)
    pid = os.getpid()
    stop = signal.SIGSTOP
    dup2 = os.dup2
    kill = os.kill
    malloc_stats = sys._debugmallocstats
    allocated_blocks = sys.getallocatedblocks
    # A fresh int (not a constant of this code) that the measured count replaces: one block
    # allocated, one freed, so the stop leaves pymalloc exactly as measured.
    box = [int("1000000007")]

    sys.stderr.flush()
    dup2(stats_fd, 2)
    malloc_stats()
    box[0] = allocated_blocks()
    dup2(saved_stderr, 2)
    kill(pid, stop)

    os.lseek(stats_fd, 0, os.SEEK_SET)
    text = os.read(stats_fd, 1 << 20).decode()
    pymalloc = parse_malloc_stats(text)
    truth = {
        "program": "pymalloc",
        "pid": pid,
        "threads": 1,
        "python": "%d.%d.%d" % sys.version_info[:3],
        "executable": sys.executable,
        "count": count,
        "population": {name: len(objects) for name, objects in population.items()},
        "allocatedBlocks": box[0],
        "rawBlocks": box[0] - pymalloc["usedBlocks"],
        "pymalloc": pymalloc,
        "instances": instances,
    }
    sys.stdout.write(json.dumps(truth, indent=1) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
