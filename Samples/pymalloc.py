"""pymalloc sample: CPython objects of known kinds in pymalloc's pools, and pymalloc's own
statistics at the stop, for Samples/make-core (run by Debian's python3.11).

Usage: python3.11 Samples/pymalloc.py [COUNT]   (COUNT per kind, default 25000)

Builds COUNT each of: instances of Node (a class with an instance dict) and of Point (a class
with __slots__), dicts, lists, tuples, strs, floats and ints that are not cached small ints;
then drops every third of each kind, leaving free blocks between used ones in the pools.

The figures are measured by code that allocates nothing net, so they describe the memory the
core holds. Printing allocates: under gcore the truth JSON is written once the process is
continued after the core is taken; for a kernel core (HEAPSCAN_SAMPLE_ABORT=1) it is made in a
buffer allocated beforehand and written once a second measurement equals the first, then abort():
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

    pid = os.getpid()
    saved_stderr = os.dup(2)
    first = tempfile.TemporaryFile()
    # Fresh ints (not constants of this code) that measured counts replace: one block in, one
    # out, so pymalloc is left exactly as measured.
    box = [int("1000000007"), int("1000000009")]

    def truth_text(stats):
        pymalloc = parse_malloc_stats(stats.decode())
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
        return (json.dumps(truth, indent=1) + "\n").encode()

    sys.stderr.flush()
    if not os.environ.get("HEAPSCAN_SAMPLE_ABORT"):
        # gcore: measured right before SIGSTOP, printed once make-core continues the process.
        measure(first.fileno(), saved_stderr, box, 0)
        os.kill(pid, signal.SIGSTOP)
        os.write(1, truth_text(read_all(first.fileno())))
        return

    # Kernel core: the truth must be out before abort(), and printing allocates. It is made
    # into a buffer allocated beforehand, then pymalloc is measured again: once a second
    # measurement equals the first (the first round fills caches the printing uses), every
    # allocation since the first was undone, and the buffer describes the core.
    second = tempfile.TemporaryFile()
    blank = b" " * (1 << 20)
    out = bytearray(blank)
    for _ in range(8):
        measure(first.fileno(), saved_stderr, box, 0)
        text = truth_text(read_all(first.fileno()))
        out[:] = blank
        out[0:len(text)] = text
        text = None
        measure(second.fileno(), saved_stderr, box, 1)
        if box[0] == box[1] and read_all(first.fileno()) == read_all(second.fileno()):
            os.write(1, out)
            os.abort()
    sys.exit("pymalloc: the heap changed between two measurements eight times")


def measure(fd, saved_stderr, box, slot):
    """pymalloc's statistics into fd and its block count into box[slot], allocating nothing net.
    A full collection first frees cycles (the collector is disabled) and empties the free lists
    of lists, dicts, tuples and floats, whose blocks pymalloc counts as used."""
    gc.collect()
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.dup2(fd, 2)
    sys._debugmallocstats()
    box[slot] = sys.getallocatedblocks()
    os.dup2(saved_stderr, 2)


def read_all(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 1 << 20)

if __name__ == "__main__":
    main()
