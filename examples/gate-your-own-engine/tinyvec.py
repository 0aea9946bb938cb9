"""tinyvec: a tiny memory-mapped vector store, standing in for your engine in
the walkthrough "Gate your own engine" (README.md).

One file, DIR/data.bin: a 24-byte header {magic u32 "TVEC", dim u32, count
u64, record_size u64}, then `count` records of `record_size` bytes (dim
float32 each). Readers map the file and read records straight from the
mapping through a raw pointer, as C engines do; open() checks the header
against the file's real size first. Set TINYVEC_TRUST_HEADER=1 to skip that
check, and crashgate finds the crash the check prevents.
"""

import ctypes
import mmap
import os
import struct

MAGIC = 0x43455654  # "TVEC"
HEADER = struct.Struct("<IIQQ")


class Corrupt(Exception):
    pass


def create(directory, dim, vectors):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "data.bin"), "wb") as f:
        f.write(HEADER.pack(MAGIC, dim, len(vectors), 4 * dim))
        for v in vectors:
            f.write(struct.pack(f"<{dim}f", *v))
        f.flush()
        os.fsync(f.fileno())


class Store:
    def __init__(self, directory):
        self.path = os.path.join(directory, "data.bin")
        self.file = open(self.path, "rb")
        size = os.fstat(self.file.fileno()).st_size
        if size < HEADER.size:
            raise Corrupt(f"{self.path}: {size} bytes, shorter than the {HEADER.size}-byte header")
        # Private and writable only so that ctypes can take its address; nothing writes it.
        self.map = mmap.mmap(self.file.fileno(), size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        magic, self.dim, self.count, self.record_size = HEADER.unpack_from(self.map, 0)
        if magic != MAGIC:
            raise Corrupt(f"{self.path}: bad magic 0x{magic:08x} at offset 0")
        if os.environ.get("TINYVEC_TRUST_HEADER") != "1":
            if self.dim == 0 or self.record_size != 4 * self.dim:
                raise Corrupt(f"{self.path}: dim {self.dim} and record_size {self.record_size} at offset 4 disagree")
            if HEADER.size + self.count * self.record_size > size:
                raise Corrupt(f"{self.path}: count {self.count} at offset 8 needs "
                              f"{HEADER.size + self.count * self.record_size} bytes; the file has {size}")
        # The mapping's address: records are read through it without bounds checks, as a C engine would.
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.map))

    def get(self, i):
        if i >= self.count:
            raise KeyError(i)
        raw = ctypes.string_at(self.base + HEADER.size + i * self.record_size, 4 * self.dim)
        return struct.unpack(f"<{self.dim}f", raw)
