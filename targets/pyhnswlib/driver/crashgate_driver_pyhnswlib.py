"""crashgate-driver-pyhnswlib: runs one crashgate scenario cell against
hnswlib through its Python binding (Debian's python3-hnswlib, 0.6.2), on the
Python driver kit (harness/driver_kit/python; protocol:
reports/driver-protocol.md).

The store is one file, STORE/index.bin (STORE: the work directory's `store/`,
or `create`'s `store`), written by hnswlib's saveIndex and read back by its
loadIndex. The index lives in memory between the two: `sync` saves it, and
closing the store (reopen, or truncate/corrupt, which damage the file from
outside) saves it first when it changed, as a clean close would. hnswlib never
fsyncs, so every save is followed by the fsync of index.bin and its directory
an application must add for a save to last (crashgate crash-check judges the
states a power cut leaves against what those saves acknowledged). The driver
keeps a model of the records (live ids with the seed of their vectors, removed
ids) so that verify and search can judge what comes back.

Errors are codes: hnswlib's exceptions on loading or querying a damaged file
are `corrupt` ("Label not found" is `not-found`), an unknown or removed id is
`not-found`, a bad argument `invalid-argument`. A crash inside the C++
extension (SIGSEGV, SIGBUS) is left to crash: that is what crashgate observes.
"""

from __future__ import annotations

import os
import random
import sys
import time

from crashgate_driver import (
    Args, Context, Driver, LayoutField, LayoutFile, OffsetError, Records, StepError, StepResult, import_store_files,
    oracle_searches, read_field, settle_import_key, sync_to_disk,
)

NAME = "pyhnswlib"
INDEX_FILE = "index.bin"
METRICS = ["l2", "ip", "cosine"]  # hnswlib's spaces; the first is the default
READS = ["open", "count", "get", "search"]
HEADER_SIZE = 96

# hnswlib 0.6.2's saveIndex header (hnswalg.h: writeBinaryPOD of each member in
# this order; size_t 8 bytes, int 4, unsigned int (tableint) 4, double 8),
# then cur_element_count level-0 slots of size_data_per_element bytes (links
# count and links, the vector, the label), then per element a u32 byte count
# and its upper-level link lists.
LAYOUT = [
    LayoutFile(
        file="index", pattern=INDEX_FILE, header_size=HEADER_SIZE,
        meaning="hnswlib's saveIndex file: the header, the level-0 slots, then each element's upper-level links",
        fields=[
            LayoutField("offsetLevel0", 0, 8, "offset of the level-0 links within a slot (size_t, 0)"),
            LayoutField("max_elements", 8, 8, "capacity in elements (size_t)"),
            LayoutField("cur_element_count", 16, 8, "elements stored, removed ones included (size_t)"),
            LayoutField("size_data_per_element", 24, 8, "bytes per level-0 slot: links, vector, label (size_t)"),
            LayoutField("label_offset", 32, 8, "offset of the label (the record's id, 8 bytes) within a slot (size_t)"),
            LayoutField("offsetData", 40, 8, "offset of the vector within a slot (size_t)"),
            LayoutField("maxlevel", 48, 4, "the graph's top level (int)"),
            LayoutField("enterpoint_node", 52, 4, "internal id of the search's entry point (unsigned int)"),
            LayoutField("maxM", 56, 8, "links per node above level 0 (size_t)"),
            LayoutField("maxM0", 64, 8, "links per node at level 0, 2 M (size_t)"),
            LayoutField("M", 72, 8, "the M it was built with (size_t)"),
            LayoutField("mult", 80, 8, "the level multiplier, 1 / ln(M) (double)"),
            LayoutField("ef_construction", 88, 8, "build beam width (size_t)"),
        ],
        slot_base=HEADER_SIZE, slot_size_field="size_data_per_element"),
]

hnswlib = None
np = None


def import_engine() -> None:
    global hnswlib, np
    import hnswlib as hnswlib_module  # noqa: PLC0415 (--list works without them)
    import numpy as numpy_module  # noqa: PLC0415
    hnswlib, np = hnswlib_module, numpy_module


def record_vectors(ids, dim: int, seed: int):
    """The records' vectors, float32, from their ids and the seed: the kit's
    record_vector (every driver's records) for many ids at once with numpy."""
    ids = np.asarray(ids, dtype=np.uint64)
    out = np.empty((len(ids), dim), dtype=np.float32)
    x = ((ids + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(seed)
    for i in range(min(dim, 1024)):
        x ^= x >> np.uint64(31)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(29)
        out[:, i] = (x % np.uint64(2001)).astype(np.int64).astype(np.float32) - np.float32(1000)
    out[:, :min(dim, 1024)] /= np.float32(1000)
    for i in range(1024, dim):  # past 1,024 dimensions the first 1,024 values repeat
        out[:, i] = out[:, i % 1024]
    return out


def as_stored(vectors, metric: str):
    """What hnswlib keeps of these vectors: for cosine, each normalized as its
    binding does (float32, summed in order: norm = 1 / (sqrt(sum v*v) + 1e-30))."""
    if metric != "cosine":
        return vectors
    norm = np.zeros(len(vectors), dtype=np.float32)
    for i in range(vectors.shape[1]):
        norm = norm + vectors[:, i] * vectors[:, i]
    scale = np.float32(1) / (np.sqrt(norm) + np.float32(1e-30))
    return (vectors * scale[:, None]).astype(np.float32)


def engine_error(e: BaseException, during: str) -> StepError:
    """hnswlib's exception as a step error."""
    text = str(e) or type(e).__name__
    if isinstance(e, RuntimeError):
        if "Label not found" in text or "already deleted" in text:
            return StepError("not-found", f"{during}: {text}")
        return StepError("corrupt", f"{during}: {text}")
    if isinstance(e, MemoryError):
        return StepError("resource-exhausted", f"{during}: {text}")
    if isinstance(e, (ValueError, TypeError, OverflowError)):
        return StepError("invalid-argument", f"{during}: {text}")
    if isinstance(e, OSError):
        return StepError("io", f"{during}: {text}")
    return StepError("corrupt", f"{during}: {type(e).__name__}: {text}")


class Session:
    def __init__(self, context: Context):
        self.ctx = context
        self.store_dir = os.path.join(context.work_dir, "store")
        self.seed = context.seed
        self.index = None       # the open store: an hnswlib.Index, or None when closed
        self.dirty = False      # changed since it was last saved
        self.dim = 0
        self.metric = METRICS[0]
        self.first_free = 0     # after an import: the first id past the index's own labels
        self.records = Records()  # the model: live ids with the seed of their vectors, removed ids
        self.rng = random.Random(context.seed)

    @property
    def path(self) -> str:
        return os.path.join(self.store_dir, INDEX_FILE)

    # -- the store ---------------------------------------------------------------

    def ensure_open(self, *_):
        if self.index is not None:
            return StepResult.ok()
        if not self.dim:
            raise StepError("not-found", "there is no store: no create step made one")
        if not os.path.exists(self.path):
            raise StepError("not-found", f"{self.path} does not exist")
        index = hnswlib.Index(space=self.metric, dim=self.dim)
        try:
            index.load_index(self.path)
        except BaseException as e:  # noqa: BLE001 (pybind11 maps C++ exceptions to several classes)
            raise engine_error(e, f"load_index({INDEX_FILE})") from None
        index.set_num_threads(1)  # on this (the worker) thread, in order: deterministic
        self.index = index
        self.dirty = False
        if not self.records.known():
            # An imported index's labels are not the model's: ids `add` hands out start past the largest.
            self.first_free = max([self.first_free] + [label + 1 for label in index.get_ids_list()])
        return StepResult.ok()

    def save(self) -> None:
        try:
            self.index.save_index(self.path)
        except BaseException as e:  # noqa: BLE001
            raise engine_error(e, f"save_index({INDEX_FILE})") from None
        sync_to_disk(self.path)
        self.dirty = False

    def close(self) -> None:
        if self.index is None:
            return
        if self.dirty:
            self.save()
        self.index = None

    def engine_count(self) -> int:
        """Records the index holds and has not marked removed: element_count
        less the labels get_items refuses (hnswlib 0.6.2 does not say how many it marked)."""
        n = 0
        for label in self.index.get_ids_list():
            try:
                self.index.get_items([label])
                n += 1
            except RuntimeError as e:
                if "Label not found" not in str(e):
                    raise engine_error(e, f"get_items([{label}])") from None
        return n

    def add_records(self, ids, seed: int) -> None:
        if not ids:
            return
        removed = set(self.records.removed_ids())
        new = [i for i in ids if not self.records.holds(i) and i not in removed]
        need = self.index.element_count + len(new)
        try:
            if need > self.index.max_elements:
                self.index.resize_index(max(need, 2 * self.index.max_elements))
            for start in range(0, len(ids), 10_000):
                batch = ids[start:start + 10_000]
                self.index.add_items(record_vectors(batch, self.dim, seed), np.asarray(batch, dtype=np.uint64),
                                     num_threads=1)
                self.records.added(batch, seed)
                self.dirty = True
        except BaseException as e:  # noqa: BLE001
            raise engine_error(e, "add_items") from None

    # -- ops ---------------------------------------------------------------------

    def create(self, a: Args, ctx: Context):
        if not a.boolean("hnsw", True):
            raise StepError("invalid-argument", "hnswlib is an HNSW index: hnsw = false has no meaning here")
        self.index = None
        self.dim = a.u64("dim", 64)
        self.metric = a.string("metric", METRICS[0])
        if a.has("store"):
            self.store_dir = os.path.join(ctx.work_dir, a.string("store"))
        os.makedirs(self.store_dir, exist_ok=True)
        n = a.u64("vectors", 0)
        seed = a.u64("seed", self.seed)
        self.records.reset(self.dim)
        self.first_free = 0
        index = hnswlib.Index(space=self.metric, dim=self.dim)
        try:
            index.init_index(max_elements=max(n, 100), M=a.u64("m", 16), ef_construction=a.u64("ef_construction", 200),
                             random_seed=self.seed % (1 << 32))
        except BaseException as e:  # noqa: BLE001
            raise engine_error(e, "init_index") from None
        index.set_num_threads(1)
        self.index = index
        self.add_records(list(range(n)), seed)
        self.save()
        ctx.log(f"created {INDEX_FILE}: {n} records of {self.dim} ({self.metric})")

    def import_(self, a: Args, ctx: Context):
        # index.bin of `from` becomes the store, closed: the next store op
        # loads it (load_index), so damage shows there. Its header says the
        # vector's bytes (label_offset - offsetData: dim floats, in every
        # space); no metric, which is the step's. A header too short to say
        # leaves it to the step's `dim`.
        source = os.path.join(a.string("from"), INDEX_FILE)
        label, data = read_field(LAYOUT[0], source, "label_offset"), read_field(LAYOUT[0], source, "offsetData")
        in_files = None
        if label is not None and data is not None and label > data and (label - data) % 4 == 0 and (label - data) // 4 <= 1 << 20:
            in_files = (label - data) // 4
        dim = settle_import_key(a, "dim", in_files, "index.bin's label_offset - offsetData (4 bytes a value)", 64)
        metric = a.string("metric", METRICS[0])
        self.close()
        if a.has("store"):
            self.store_dir = os.path.join(ctx.work_dir, a.string("store"))
        import_store_files(a.string("from"), self.store_dir)
        self.dim, self.metric, self.first_free = dim, metric, 0
        self.records.imported(dim)
        ctx.log(f"imported {a.string('from')} into {self.store_dir}: {dim} dimensions, {metric} (the next store op loads it)")

    def add(self, a: Args, ctx: Context):
        if a.table("metadata"):
            raise StepError("invalid-argument", "hnswlib keeps no metadata")
        first = max(self.records.next_id(), self.first_free)
        ids = a.u64_list("ids") if a.has("ids") else list(range(first, first + a.u64("vectors", 100)))
        self.add_records(ids, a.u64("seed", self.seed))
        ctx.log(f"added {len(ids)} records")

    def search(self, a: Args, ctx: Context):
        if a.has("filter"):
            raise StepError("invalid-argument", "hnswlib 0.6.2 has no filtered search")
        min_recall = a.real("min_recall") if a.has("min_recall") else None
        return self.run_searches(a.u64("queries", 10), a.u64("k", 10), a.u64("ef", 64), ctx, min_recall)

    def run_searches(self, queries: int, k: int, ef: int, ctx: Context, min_recall=None):
        # k-NN queries from the cell's seed; every hit must be a live record
        # (any label after an import: the model does not know the files' own),
        # nearest first, no more than k of them. With the model exact, the
        # kit's oracle measures recall@k against its own exact search.
        live = self.records.live()
        known = self.records.known()
        stored = len(live) if known else self.engine_count()
        k = min(k, stored)
        if k == 0 or queries == 0:
            ctx.log(f"{queries} searches on {stored} live records: nothing to find")
            return StepResult.ok()
        hits = 0

        def search(vectors):
            nonlocal hits
            q = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), self.dim)
            try:
                self.index.set_ef(max(ef, k))
                labels, distances = self.index.knn_query(q, k=k, num_threads=1)
            except BaseException as e:  # noqa: BLE001
                raise engine_error(e, "knn_query") from None
            rows = labels.tolist()
            for row, dist in zip(rows, distances.tolist()):
                if len(row) > k:
                    raise StepError("wrong-result", f"search returned {len(row)} hits for k = {k}")
                if len(set(row)) != len(row):
                    raise StepError("wrong-result", f"search returned an id twice: {row}")
                for h, label in enumerate(row):
                    if known and label not in live:
                        raise StepError("wrong-result", f"search returned id {label}, which is not a live record")
                    if h > 0 and dist[h] < dist[h - 1]:
                        raise StepError("wrong-result", "search hits are not ordered nearest first")
                hits += len(row)
            return rows

        def records():
            ids = list(live)
            if not ids:
                return []
            out = []
            for seed in sorted(set(live.values())):
                same = [i for i in ids if live[i] == seed]
                out.extend(zip(same, record_vectors(same, self.dim, seed).tolist()))
            return out

        result = oracle_searches(self.metric, self.records.exact(), len(live), self.dim, queries, k, min_recall, records,
                                 self.rng, search, ctx)
        ctx.log(f"{queries} searches, k {k}, ef {max(ef, k)}: {hits} hits")
        return result

    def remove(self, a: Args, ctx: Context):
        if a.has("ids"):
            ids = a.u64_list("ids")
        else:
            live = sorted(self.records.live())
            ids = self.rng.sample(live, min(len(live), a.u64("count", 1)))
        for i in ids:
            try:
                self.index.mark_deleted(i)
            except BaseException as e:  # noqa: BLE001
                raise engine_error(e, f"mark_deleted({i})") from None
            self.records.removed([i])
            self.dirty = True
        ctx.log(f"removed {len(ids)} records")

    def count(self, a: Args, ctx: Context):
        n = self.engine_count()
        ctx.log(f"count = {n}")
        if a.has("equals") and n != a.u64("equals"):
            raise StepError("wrong-result", f"the index holds {n} live records, expected {a.u64('equals')}")

    def get(self, a: Args, ctx: Context):
        for i in a.u64_list("ids"):
            self.get_one(i)

    def get_one(self, i: int):
        try:
            return self.index.get_items([i])
        except BaseException as e:  # noqa: BLE001
            raise engine_error(e, f"get_items([{i}])") from None

    def verify(self, a: Args, ctx: Context):
        # Every live record is there and exact, no removed one came back, and
        # the index's count agrees with the model. After a crash
        # (`acknowledged`, set by crashgate crash-check) the live records are
        # those the last save acknowledged, and one written since may be
        # missing but is exact when there.
        if a.has("acknowledged"):
            self.records.expect(a.table("acknowledged"))
        after_crash = self.records.after_crash()
        maybe_there = 0
        for i, seed in self.records.maybe().items():
            if not self.has_label(i):
                continue
            maybe_there += 1
            got = np.asarray(self.get_one(i), dtype=np.float32)
            want = as_stored(record_vectors([i], self.dim, seed), self.metric)
            if got.shape != want.shape or not np.array_equal(got, want):
                raise StepError("wrong-result", f"record {i} (written since the last acknowledged save) is there but torn")
        by_seed = {}
        live = self.records.live()
        for i, seed in live.items():
            by_seed.setdefault(seed, []).append(i)
        for seed, ids in sorted(by_seed.items()):
            ids.sort()
            expected = as_stored(record_vectors(ids, self.dim, seed), self.metric)
            for start in range(0, len(ids), 1000):
                batch = ids[start:start + 1000]
                try:
                    got = np.asarray(self.index.get_items(batch), dtype=np.float32)
                except RuntimeError as e:
                    if "Label not found" not in str(e):
                        raise engine_error(e, "get_items") from None
                    missing = next(i for i in batch if not self.has_label(i))
                    raise StepError("wrong-result", f"record {missing} was acknowledged durable before the crash, and is missing"
                                    if after_crash else f"record {missing} was added and never removed, but is missing") from None
                except BaseException as e:  # noqa: BLE001
                    raise engine_error(e, "get_items") from None
                want = expected[start:start + len(batch)]
                if got.shape != want.shape or not np.array_equal(got, want):
                    row = next((r for r in range(len(batch)) if got.shape != want.shape or not np.array_equal(got[r], want[r])), 0)
                    raise StepError("wrong-result", f"record {batch[row]} comes back different from what was added")
        for i in self.records.removed_ids():
            if self.has_label(i):
                raise StepError("wrong-result", f"record {i} was removed durably before the crash, and is back"
                                if after_crash else f"record {i} was removed and is back")
        if not self.records.known():  # an imported index: the files' own records are unknown to the model
            ctx.log(f"verified the {len(live)} records added since the import")
            return
        n = self.engine_count()
        if n != len(live) + maybe_there:
            raise StepError("wrong-result", f"the index holds {n} live records, the model {len(live)}" if not after_crash else
                            f"the index holds {n} live records; {len(live)} were acknowledged and {maybe_there} of those "
                            "written since are there, and nothing else may be")
        ctx.log(f"verified {len(live)} records" + (f" and {maybe_there} written since the last acknowledged save"
                                                     if after_crash else ""))

    def has_label(self, i: int) -> bool:
        try:
            self.index.get_items([i])
            return True
        except RuntimeError as e:
            if "Label not found" in str(e):
                return False
            raise engine_error(e, f"get_items([{i}])") from None

    def sync(self, a: Args, ctx: Context):
        self.save()

    def reopen(self, a: Args, ctx: Context):
        self.close()
        self.ensure_open()

    def damage_target(self, a: Args, ctx: Context, offset_key: str):
        # Damage from outside: the store is closed (saved) first, unless
        # while_open says an outside process changes the file while the index is loaded.
        self.records.unsure()
        if not a.boolean("while_open", False):
            self.close()
        if not os.path.exists(self.path):
            raise StepError("not-found", f"{self.path} does not exist")
        return ctx.offset(a.string("file"), self.path, a.string(offset_key), self.extra_term)

    def extra_term(self, name: str, arg):
        # `links`: the end of the level-0 slots, where the upper-level link lists begin.
        if name != "links" or arg is not None:
            return None
        try:
            with open(self.path, "rb") as f:
                header = f.read(HEADER_SIZE)
        except OSError as e:
            raise OffsetError(f"cannot read {self.path}: {e}") from None
        if len(header) < 32:
            raise OffsetError(f"{self.path} is too short to hold cur_element_count and size_data_per_element")
        count = int.from_bytes(header[16:24], "little")
        size = int.from_bytes(header[24:32], "little")
        return HEADER_SIZE + count * size

    def truncate(self, a: Args, ctx: Context):
        to = self.damage_target(a, ctx, "to")
        try:
            os.truncate(self.path, to)
        except OSError as e:
            raise StepError("io", f"truncate {self.path} to {to}: {e.strerror}") from None
        ctx.log(f"truncated {INDEX_FILE} to {to} bytes")

    def corrupt(self, a: Args, ctx: Context):
        at = self.damage_target(a, ctx, "at")
        n = a.u64("bytes", 1)
        value = a.string("value", "flip")
        try:
            with open(self.path, "r+b") as f:
                f.seek(at)
                old = f.read(n)
                old += bytes(n - len(old))  # past the end: zeros, as the C++ drivers read it
                if value.startswith("u32le:") or value.startswith("u64le:"):
                    width = 4 if value.startswith("u32le:") else 8
                    if n != width:
                        raise StepError("invalid-argument", f"corrupt: value {value} needs bytes = {width}")
                    new = int(value[6:]).to_bytes(width, "little")
                elif value == "flip":
                    new = bytes(b ^ 0xFF for b in old)
                else:
                    new = bytes([int(value)]) * n
                f.seek(at)
                f.write(new)
        except OSError as e:
            raise StepError("io", f"corrupt {self.path}: {e.strerror}") from None
        if a.boolean("rechecksum", False):
            ctx.log("hnswlib's index has no checksums: nothing to recompute")
        ctx.log(f"corrupted {n} bytes of {INDEX_FILE} at {at}")

    def read(self, a: Args, ctx: Context):
        # One way of reading: open alone, count, get (a few ids the model holds), search.
        what = a.string("what")
        self.ensure_open()
        if what == "open":
            return
        if what == "count":
            ctx.log(f"count {self.engine_count()}")
            return
        if what == "get":
            for n, i in enumerate(sorted(self.records.live())):
                if n % 97 == 0:
                    self.get_one(i)
            return
        if what == "search":
            return self.run_searches(5, 10, 64, ctx)
        raise StepError("invalid-argument", f"read: what must be {', '.join(READS)}, not '{what}'")

    def sleep(self, a: Args, ctx: Context):
        time.sleep(a.duration_ms("duration", 0) / 1000.0)


def engine_version() -> str:
    """hnswlib's version as its installed package records it (Debian's
    python3-hnswlib 0.6.2 records 0.6.1); "" when nothing records one."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("hnswlib")
    except (ImportError, PackageNotFoundError):
        return ""


def make_driver() -> Driver:
    driver = Driver(NAME, "1")
    driver.engine("hnswlib", engine_version())
    sessions = []

    def session() -> Session:
        return sessions[0]

    @driver.on_start
    def start(cell, ctx):
        regression = os.environ.get("CRASHGATE_REGRESSION", "")
        if regression:
            return f"CRASHGATE_REGRESSION={regression}: this driver has no regression switches"
        try:
            import_engine()
        except ImportError as e:
            return f"hnswlib cannot be imported by {sys.executable}: {e} (Debian: apt-get install python3-hnswlib)"
        sessions.append(Session(ctx))
        return None

    driver.before_store_ops(lambda a, ctx: session().ensure_open())

    def invariants(a: Args, ctx: Context):
        # check_invariants: after each step, the whole index against the model (verify's walk).
        session().ensure_open()
        return session().verify(a, ctx)
    driver.invariants(invariants)

    def step(method):
        return lambda a, ctx: method(session(), a, ctx)

    for op, method in (("create", Session.create), ("import", Session.import_), ("add", Session.add), ("search", Session.search),
                       ("remove", Session.remove), ("count", Session.count), ("get", Session.get),
                       ("verify", Session.verify), ("sync", Session.sync), ("reopen", Session.reopen),
                       ("truncate", Session.truncate), ("corrupt", Session.corrupt), ("read", Session.read),
                       ("sleep", Session.sleep)):
        driver.on(op, step(method))
    driver.values("create", "metric", METRICS)
    driver.values("import", "metric", METRICS)
    driver.values("truncate", "file", ["index"])
    driver.values("corrupt", "file", ["index"])
    driver.values("read", "what", READS)
    driver.layout(LAYOUT)
    # Every save (create's, sync's, a reopen's close) is fsynced with its directory.
    driver.record_model(lambda: session().records.model(session().metric),
                        lambda op: op in ("create", "sync", "reopen"))
    return driver


def main(argv=None) -> int:
    return make_driver().main(sys.argv if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
