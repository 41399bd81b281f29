#!/usr/bin/env python3
"""verify-truth.py - check a sample's truth JSON against its core, independently
of heapscan (plain byte scanning of the core's PT_LOAD segments).

Usage: Samples/verify-truth.py CORE TRUTH.json

Exit 0 if every check passed, 1 otherwise.  Checks per program:
  magic        each magic occurs `count` times (aligned) in anonymous memory;
               leaked example addresses are referenced nowhere, anchored ones are
  classes      each vtable / secondary vptr value occurs `count` times in
               anonymous memory
  bigalloc     each marker occurs `count` times, at the listed addresses
  threads      each thread's tag occurs `count` times
  mallocsizes  walks every arena heap: chunk counts per size (in use / free)
               and the tcache counts match the truth; mallinfo2 fastbin
               numbers match the expectation
  leaker       finds every object (vtable or magic), counts objects to which
               no 8-byte word anywhere in the core points: must be `leaked`
  jemalloc     each tag occurs `live` times
"""
import json
import struct
import sys

NT_FILE = 0x46494C45


class Core:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2:
            raise SystemExit(f"{path}: not a 64-bit ELF core")
        phoff, = struct.unpack_from("<Q", d, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", d, 0x36)
        self.segs = []          # (vaddr, bytes)
        self.files = []         # (start, end, name)
        for i in range(phnum):
            p_type, p_flags, off, vaddr, _, filesz, memsz, _ = struct.unpack_from(
                "<IIQQQQQQ", d, phoff + i * phentsize)
            if p_type == 1 and filesz:
                self.segs.append((vaddr, memoryview(d)[off:off + filesz]))
            elif p_type == 4:
                self._notes(off, filesz)

    def _notes(self, off, size):
        d, end = self.data, off + size
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", d, off)
            desc = off + 12 + ((namesz + 3) & ~3)
            if ntype == NT_FILE:
                count, _ = struct.unpack_from("<QQ", d, desc)
                names = d[desc + 16 + 24 * count:desc + descsz].split(b"\0")
                for k in range(count):
                    s, e, _ = struct.unpack_from("<QQQ", d, desc + 16 + 24 * k)
                    self.files.append((s, e, names[k].decode(errors="replace")))
            off = desc + ((descsz + 3) & ~3)

    def file_backed(self, addr):
        return any(s <= addr < e for s, e, _ in self.files)

    def anon_segs(self):
        return [(v, b) for v, b in self.segs if not self.file_backed(v)]

    def find(self, value, width, segs=None):
        """Addresses where `value` occurs as an aligned little-endian word."""
        pat = value.to_bytes(width, "little")
        hits = []
        for vaddr, buf in (self.segs if segs is None else segs):
            b = bytes(buf)
            i = b.find(pat)
            while i >= 0:
                if (vaddr + i) % width == 0:
                    hits.append(vaddr + i)
                i = b.find(pat, i + 1)
        return hits

    def read(self, addr, n):
        for vaddr, buf in self.segs:
            if vaddr <= addr and addr + n <= vaddr + len(buf):
                return bytes(buf[addr - vaddr:addr - vaddr + n])
        return None

    def u64(self, addr):
        b = self.read(addr, 8)
        return None if b is None else struct.unpack("<Q", b)[0]

    def seg_of(self, addr):
        for vaddr, buf in self.segs:
            if vaddr <= addr < vaddr + len(buf):
                return vaddr, buf
        return None


class Checker:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def eq(self, what, got, want):
        if got == want:
            self.passed += 1
            print(f"ok   {what}: {got}")
        else:
            self.failed += 1
            print(f"FAIL {what}: got {got}, want {want}")


def h(s):
    return int(s, 16)


def check_magic(core, t, c):
    anon = core.anon_segs()
    for m in t["magics"]:
        n = len(core.find(h(m["value"]), m["width"], anon))
        c.eq(f"magic {m['value']} occurrences in anonymous memory", n, m["count"])
        for a in m["addresses"]:
            c.eq(f"references to leaked {a}", len(core.find(h(a), 8)), 0)
        for a in m.get("anchored_addresses", []):
            c.eq(f"references to anchored {a} > 0", len(core.find(h(a), 8)) > 0, True)


def check_classes(core, t, c):
    anon = core.anon_segs()
    for k in t["classes"]:
        for v in [k["vtable"]] + k["secondary_vptrs"]:
            c.eq(f"{k['name']} vptr {v} occurrences", len(core.find(h(v), 8, anon)), k["count"])
        for a in k["addresses"]:
            c.eq(f"{k['name']} object {a} starts with vtable", core.u64(h(a)), h(k["vtable"]))


def check_bigalloc(core, t, c):
    for s in t["sizes"]:
        hits = core.find(h(s["magic"]), 8, core.anon_segs())
        c.eq(f"marker {s['magic']} occurrences", len(hits), s["count"])
        c.eq(f"marker {s['magic']} at listed addresses", sorted(hits),
             sorted(h(a) for a in s["addresses"]))


def check_threads(core, t, c):
    for th in t["per_thread"]:
        n = len(core.find(h(th["magic"]), 4, core.anon_segs()))
        c.eq(f"thread {th['index']} tag {th['magic']} occurrences", n, th["count"])


def heap_chunks(core, addr, main):
    """Chunks (address, size, in_use) of the glibc heap containing addr."""
    vaddr, buf = core.seg_of(addr)
    start = vaddr if main else addr & ~(64 * 1024 * 1024 - 1)
    b = bytes(buf[start - vaddr:])
    # the first chunk of each heap is the tcache_perthread_struct (size 0x290)
    pos = 0
    while struct.unpack_from("<Q", b, pos + 8)[0] & ~7 != 0x290:
        pos += 16
        if pos > 0x2000:
            raise ValueError("no tcache_perthread_struct found")
    chunks = []
    while pos + 16 <= len(b):
        size = struct.unpack_from("<Q", b, pos + 8)[0] & ~7
        if size == 0 or pos + size + 16 > len(b):
            break          # top chunk reaches the end of the segment
        nxt = struct.unpack_from("<Q", b, pos + size + 8)[0]
        chunks.append((start + pos, size, bool(nxt & 1)))
        pos += size
    return chunks


def check_mallocsizes(core, t, c):
    mi, ex = t["mallinfo2"], t["expected"]
    c.eq("mallinfo2.smblks", mi["smblks"], ex["fastbin_chunks"])
    c.eq("mallinfo2.fsmblks", mi["fsmblks"], ex["fastbin_bytes"])
    c.eq("mallinfo2.hblks", mi["hblks"], ex["mmapped_chunks"])
    c.eq("mallinfo2.hblkhd", mi["hblkhd"], ex["mmapped_bytes"])
    c.eq("mallinfo2.ordblks", mi["ordblks"], ex["unsorted_chunks"] + t["arenas"])
    for ti in range(t["threads"]):
        first = h(t["sizes"][0]["per_thread"][ti]["first_live"])
        chunks = heap_chunks(core, first, ti == 0)
        tcache = core.read(chunks[0][0] + 16, 128)
        for s in t["sizes"]:
            pt = s["per_thread"][ti]
            cs = s["chunk_size"]
            used = sum(1 for _, size, u in chunks if size == cs and u)
            free = sum(1 for _, size, u in chunks if size == cs and not u)
            want_used = pt["live"] + pt["tcache"] + pt["fastbin"]
            # main heap: libc may own a few extra chunks, never fewer
            ok = used >= want_used if ti == 0 else used == want_used
            c.eq(f"thread {ti} chunk {cs}: in-use chunks {used} (live+tcache+fast {want_used})",
                 ok, True)
            c.eq(f"thread {ti} chunk {cs}: free chunks", free, pt["unsorted"])
            if cs <= 1040:
                n = struct.unpack_from("<H", tcache, 2 * ((cs - 32) // 16))[0]
                c.eq(f"thread {ti} tcache count for {cs}", n, pt["tcache"])


def check_leaker(core, t, c):
    anon = core.anon_segs()
    for ty in t["types"]:
        if ty["kind"] == "vtable":
            objs = core.find(h(ty["vtable"]), 8, anon)
        else:
            objs = [a for a in core.find(h(ty["value"]), 4, anon) if a % 16 == 0]
        c.eq(f"{ty['name']} objects", len(objs), ty["total"])
        unref = [a for a in objs if not core.find(a, 8)]
        c.eq(f"{ty['name']} objects referenced by no word in the core", len(unref), ty["leaked"])
        c.eq(f"{ty['name']} example_leaked unreferenced", h(ty["example_leaked"]) in unref, True)
        for k in ("global", "stack", "chain"):
            a = h(ty[f"example_anchored_{k}"])
            c.eq(f"{ty['name']} example_anchored_{k} referenced", a in objs and a not in unref, True)


def check_jemalloc(core, t, c):
    c.eq("config.stats", t["config_stats"], True)
    anon = core.anon_segs()
    for p in t["planted"]:
        c.eq(f"tag {p['tag']} occurrences", len(core.find(h(p["tag"]), 8, anon)), p["live"])


CHECKS = {
    "magic": check_magic, "classes": check_classes, "bigalloc": check_bigalloc,
    "threads": check_threads, "mallocsizes": check_mallocsizes, "leaker": check_leaker,
    "jemalloc": check_jemalloc,
}


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    core = Core(sys.argv[1])
    with open(sys.argv[2]) as f:
        truth = json.load(f)
    c = Checker()
    CHECKS[truth["program"]](core, truth, c)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
