"""hnsw_bench's third reference point: hnswlib through Debian's python3-hnswlib,
run by /usr/bin/python3 as a child of the bench, one command a line on stdin
and one reply line on stdout:

  data PATH N DIM         the N x DIM float32 vectors in PATH (raw, row-major)
  queries PATH NQ         the NQ query vectors, likewise
  build THREADS M EFC     an index of the data (labels are row numbers), inserted
                          with add_items on THREADS threads -> "SECONDS RSS_GROWTH"
  drop                    forget the index -> "ok"
  pass EF PATH            one knn_query (k 10, one thread) over all queries at
                          EF; the labels, nearest first, as uint64 to PATH -> "ok"
  time EF SECS            knn_query over all queries, again and again for at
                          least SECS -> "QPS" (timed here, so that the pipe
                          round trip is not counted against the library)

The first line it prints is "ready", or "unavailable REASON" when
hnswlib or numpy cannot be imported. Queries go to knn_query as one batch, as a
Python user would send them: the library's own loop, not a Python call per query.
"""
import ctypes
import gc
import sys
import time


def trim():
    """Hand freed memory back (as the bench does for itself), or the next index
    would reuse a dropped one's and its growth would read as none."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def main():
    try:
        import hnswlib
        import numpy as np
    except Exception as e:  # noqa: BLE001 - any failure to import means no reference point
        print(f"unavailable {type(e).__name__}: {e}", flush=True)
        return 0
    print("ready", flush=True)
    data = queries = index = None
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "data":
            data = np.fromfile(cmd[1], dtype=np.float32).reshape(int(cmd[2]), int(cmd[3]))
            reply = "ok"
        elif cmd[0] == "queries":
            queries = np.fromfile(cmd[1], dtype=np.float32).reshape(int(cmd[2]), data.shape[1])
            reply = "ok"
        elif cmd[0] == "build":
            threads, m, efc = int(cmd[1]), int(cmd[2]), int(cmd[3])
            index = None
            trim()
            before = rss_bytes()
            index = hnswlib.Index(space="l2", dim=data.shape[1])
            index.init_index(max_elements=data.shape[0], ef_construction=efc, M=m)
            ids = np.arange(data.shape[0], dtype=np.uint64)
            t0 = time.perf_counter()
            index.add_items(data, ids, num_threads=threads)
            secs = time.perf_counter() - t0
            reply = f"{secs} {max(0, rss_bytes() - before)}"
        elif cmd[0] == "drop":
            index = None
            gc.collect()
            reply = "ok"
        elif cmd[0] == "pass":
            index.set_ef(int(cmd[1]))
            labels, _ = index.knn_query(queries, k=10, num_threads=1)
            labels.astype(np.uint64).tofile(cmd[2])
            reply = "ok"
        elif cmd[0] == "time":
            index.set_ef(int(cmd[1]))
            secs, rounds = float(cmd[2]), 0
            t0 = time.perf_counter()
            while True:
                index.knn_query(queries, k=10, num_threads=1)
                rounds += 1
                elapsed = time.perf_counter() - t0
                if elapsed >= secs:
                    break
            reply = f"{rounds * queries.shape[0] / elapsed}"
        else:
            reply = f"error unknown command {cmd[0]}"
        print(reply, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
