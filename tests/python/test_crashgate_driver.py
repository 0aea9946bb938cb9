"""The Python driver kit (harness/driver_kit/python/crashgate_driver.py) alone:
its op table against `crashgate ops --json`, typing and refusals, the
judgement of a step's expect, the stop rule, the events (order, one whole line
per write, truncation), the listings, the self-check, offset expressions, the
worker thread's stack, and the conformance probes.

Run by ctest (`ctest -L python`) with CRASHGATE_BIN, CRASHGATE_SOURCE_DIR and
CRASHGATE_BUILD_DIR set; by hand: cd tests/python && /usr/bin/python3 -m unittest test_crashgate_driver
"""

import contextlib
import io
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("CRASHGATE_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.environ.get("CRASHGATE_BUILD_DIR") or os.path.join(SOURCE_DIR, "build", "release")
CRASHGATE_BIN = os.environ.get("CRASHGATE_BIN") or os.path.join(BUILD_DIR, "bin", "crashgate")
KIT_DIR = os.path.join(SOURCE_DIR, "harness", "driver_kit", "python")
TOY = os.path.join(HERE, "toy_driver.py")
EXAMPLE_DIR = os.path.join(SOURCE_DIR, "targets", "pyhnswlib", "driver")
EXAMPLE_LAUNCHER = os.path.join(BUILD_DIR, "bin", "crashgate-driver-pyhnswlib")

sys.path[:0] = [KIT_DIR, HERE]
import crashgate_driver as kit  # noqa: E402
import toy_driver  # noqa: E402

PYTHON = sys.executable or "/usr/bin/python3"


def have_hnswlib() -> bool:
    try:
        import hnswlib  # noqa: F401
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


def need_crashgate(test: unittest.TestCase) -> None:
    if not os.access(CRASHGATE_BIN, os.X_OK):
        if os.environ.get("CRASHGATE_BIN"):
            test.fail(f"CRASHGATE_BIN={CRASHGATE_BIN} is not an executable")
        test.skipTest(f"no crashgate at {CRASHGATE_BIN} (set CRASHGATE_BIN)")


class Ran:
    """How a driver process ended, with its events (one string per line) and output."""

    def __init__(self, returncode, events, stdout, stderr):
        self.returncode = returncode
        self.lines = events
        self.events = [json.loads(line) for line in events]
        self.stdout = stdout
        self.stderr = stderr

    def names(self):
        return [e["event"] for e in self.events]

    def logs(self):
        return [e["message"] for e in self.events if e["event"] == "log"]

    def __repr__(self):
        return f"Ran(rc={self.returncode}, events={self.lines}, stderr={self.stderr!r})"


def run_driver(command, args, env=None, timeout=120) -> Ran:
    """Runs a driver with the event pipe on a fresh fd (CRASHGATE_EVENT_FD names it), as the runner does."""
    r, w = os.pipe()
    full_env = dict(os.environ)
    full_env.update({"CRASHGATE_EVENT_FD": str(w), "PYTHONDONTWRITEBYTECODE": "1", "CRASHGATE_SOURCE_DIR": SOURCE_DIR})
    full_env.pop("CRASHGATE_PROBE", None)
    full_env.update(env or {})
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: os.read(r, 65536), b"")))
    reader.start()
    try:
        proc = subprocess.run(list(command) + list(args), env=full_env, pass_fds=(w,), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
    finally:
        os.close(w)
        reader.join()
        os.close(r)
    data = b"".join(chunks).decode("utf-8")
    assert data == "" or data.endswith("\n"), f"a partial event line: {data!r}"
    return Ran(proc.returncode, data.splitlines(), proc.stdout, proc.stderr)


class CellDir:
    """A work directory holding cell.json."""

    def __init__(self, test: unittest.TestCase, steps, worker_stack=None, protocol=1, raw=None):
        self.dir = tempfile.mkdtemp(prefix="crashgate-kit-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        cell = {"protocol": protocol, "cell": "kit-test", "scenario": "kit-test", "target": "toy", "build": "release",
                "params": {}, "seed": 1234, "work_dir": self.dir,
                "steps": [dict({"index": i}, **s) for i, s in enumerate(steps)]}
        if worker_stack is not None:
            cell["worker_stack"] = worker_stack
        if protocol is None:
            del cell["protocol"]
        self.path = os.path.join(self.dir, "cell.json")
        with open(self.path, "w") as f:
            f.write(raw if raw is not None else json.dumps(cell))


def run_toy(test, steps, env=None, **cell) -> Ran:
    c = CellDir(test, steps, **cell)
    return run_driver([PYTHON, TOY], ["--cell", c.path], env)


def strip_durations(events):
    return [{k: v for k, v in e.items() if k != "duration_ms"} for e in events]


# ---------------------------------------------------------------------------

class OpTableTest(unittest.TestCase):
    def test_table_equals_crashgate_ops_json(self):
        need_crashgate(self)
        out = subprocess.run([CRASHGATE_BIN, "ops", "--json"], capture_output=True, text=True, check=True).stdout
        theirs = [json.loads(line) for line in out.splitlines() if line.strip()]
        ours = kit.ops_json()
        self.assertEqual([o["op"] for o in ours], [o["op"] for o in theirs], "the ops, in order")
        for mine, real in zip(ours, theirs):
            # Every key's type, required, values / engine_values, min and max, and needs_store.
            self.assertEqual(mine, real, f"op {real['op']}: the kit's row differs from `crashgate ops --json`")

    def test_table_shape(self):
        for op in kit.OPS:
            for key in op.keys + kit.COMMON_KEYS:
                self.assertIn(key.type, kit.VALUE_TYPES, f"{op.name}.{key.name}")
                if key.values:
                    self.assertEqual(key.type, kit.ENUM, f"{op.name}.{key.name}")
        self.assertTrue(kit.find_op("add").needs_store)
        self.assertFalse(kit.find_op("truncate").needs_store)
        self.assertTrue(kit.find_op("truncate").key("file").engine_values)
        self.assertEqual(kit.find_op("delete").key("shape").values, ("or", "and", "nested", "not", "in", "not-in", "and-or"))
        dim = kit.find_op("create").key("dim")
        self.assertEqual((dim.min, dim.max), (1, 1 << 20))
        self.assertTrue(kit.find_op("sleep").key("duration").required)
        self.assertIsNone(kit.find_op("frobnicate"))

    def test_a_key_with_default_values_takes_them_when_the_driver_lists_none(self):
        plain = kit.Driver("plain")
        plain.on("create", lambda a, ctx: None)
        plain.values("create", "metric", ["l2"])
        self.assertEqual(plain.self_check(), [])
        self.assertEqual(plain.accepted_values("create", "variant"), ["default"])
        self.assertEqual(plain.ops_listing()[0]["values"]["variant"], ["default"])
        own = kit.Driver("own")
        own.on("create", lambda a, ctx: None)
        own.values("create", "metric", ["none"]).values("create", "variant", ["default", "writemap"])
        self.assertEqual(own.accepted_values("create", "variant"), ["default", "writemap"])
        self.assertIsNone(own.accepted_values("create", "dim"))


class TypedValueTest(unittest.TestCase):
    def key(self, op, name):
        return kit._key_spec(kit.find_op(op), name)

    def ok(self, op, name, raw, want, engine=None):
        self.assertEqual(kit.typed_value(self.key(op, name), raw, engine), want, f"{op}.{name} = {raw!r}")
        # The canonical form types to itself.
        self.assertEqual(kit.typed_value(self.key(op, name), want, engine), want)

    def refused(self, op, name, raw, *fragments, engine=None, form="canonical"):
        with self.assertRaises(kit.InvalidValue, msg=f"{op}.{name} = {raw!r}") as cm:
            kit.typed_value(self.key(op, name), raw, engine, form)
        for fragment in fragments:
            self.assertIn(fragment, str(cm.exception))

    def test_u64(self):
        self.ok("create", "vectors", 2000, 2000)
        self.ok("create", "vectors", "2000", 2000)
        self.ok("create", "vectors", (1 << 64) - 1, (1 << 64) - 1)
        for bad in (-1, 1.5, True, "x", "+5", "-5", "", 1 << 64, None, [1]):
            self.refused("create", "vectors", bad, "'vectors' must be a whole number from 0 (u64)")
        self.refused("create", "dim", 0, "'dim' = 0 is out of range (from 1 to 1048576)")
        self.refused("create", "dim", 1048577, "out of range")
        self.refused("delete", "clauses", 0, "out of range (at least 1)")

    def test_bool_string_table(self):
        self.ok("truncate", "while_open", True, True)
        self.ok("truncate", "while_open", "false", False)
        self.refused("truncate", "while_open", 1, "'while_open' must be true or false, not 1")
        self.ok("failpoints", "spec", "a=1*error(EIO)", "a=1*error(EIO)")
        self.refused("failpoints", "spec", 5, "'spec' must be a string, not 5")
        self.ok("add", "metadata", {"lang": "py"}, {"lang": "py"})
        self.refused("add", "metadata", [], "'metadata' must be a table")

    def test_duration(self):
        self.ok("sleep", "duration", 500, 500)
        self.ok("sleep", "duration", "2s", 2000)
        self.ok("sleep", "duration", "250ms", 250)
        self.refused("sleep", "duration", "500", "with its unit")
        self.refused("sleep", "duration", 500, "with its unit", form="written")
        self.refused("sleep", "duration", 3_600_001, "out of range (from 0s to 3600s)")
        self.refused("sleep", "duration", -5, "with its unit")

    def test_size(self):
        key = self.key("spawn-workload", "stack")
        self.assertEqual(kit.typed_value(key, 65536), 65536)
        self.assertEqual(kit.typed_value(key, "64KiB"), 65536)
        self.assertEqual(kit.typed_value(key, "2MiB"), 2 * 1024 * 1024)
        self.assertEqual(kit.typed_value(key, "1.5M"), 1536 * 1024)
        self.assertEqual(kit.typed_value(key, "65536"), 65536)
        self.refused("spawn-workload", "stack", "2 parsecs", "a size in bytes")
        self.refused("spawn-workload", "stack", 1024, "out of range (from 16 KiB to 1 GiB)")

    def test_offset(self):
        self.ok("truncate", "to", "header-1", "header-1")
        self.ok("truncate", "to", 12, "12")
        self.ok("corrupt", "at", "slot(17) + field(dim)", "slot(17) + field(dim)")
        self.refused("truncate", "to", "header-", "'to': offset expression \"header-\": it ends with an operator")
        self.refused("truncate", "to", ["x"], "an offset expression")

    def test_list(self):
        self.ok("get", "ids", [0, "7"], [0, 7])
        self.ok("get", "ids", [], [])
        self.refused("get", "ids", [-1], "'ids' must hold only whole numbers from 0, not -1")
        self.refused("get", "ids", "0,1", "a list of whole numbers")

    def test_enums(self):
        self.ok("delete", "shape", "nested", "nested")
        self.refused("delete", "shape", "bogus", "'shape' = \"bogus\" is not one of: or, and, nested, not, in, not-in, and-or")
        self.refused("delete", "shape", "", "one of the key's values")
        # The engine's values: any string when they are not known, else one of them.
        self.ok("read", "what", "anything", "anything")
        self.ok("read", "what", "count", "count", engine=["open", "count"])
        self.refused("read", "what", "scan", "'what' = \"scan\" is not one the target accepts (it lists: open, count)",
                     engine=["open", "count"])
        self.refused("read", "what", 3, "one of the key's values")

    def test_fill(self):
        self.ok("corrupt", "value", "flip", "flip")
        self.ok("corrupt", "value", 7, "7")
        self.ok("corrupt", "value", "255", "255")
        self.ok("corrupt", "value", "u32le:4294967295", "u32le:4294967295")
        self.ok("corrupt", "value", "u64le:18446744073709551615", "u64le:18446744073709551615")
        for bad in (256, "u32le:4294967296", "u64le:", "u16le:1", "x", -1):
            self.refused("corrupt", "value", bad, "'value' must be \"flip\", a byte from 0 to 255")

    def test_text_forms(self):
        self.assertEqual(kit.parse_size("4096"), 4096)
        self.assertEqual(kit.parse_size("8 MiB"), 8 << 20)
        self.assertIsNone(kit.parse_size("1.1"))
        self.assertIsNone(kit.parse_size("1.2.3K"))
        self.assertEqual(kit.parse_duration("1m"), 60_000)
        self.assertEqual(kit.parse_duration("1.5s"), 1500)
        self.assertEqual(kit.format_size(1 << 30), "1 GiB")
        self.assertEqual(kit.format_size(4097), "4,097 bytes")
        self.assertEqual(kit.format_duration(1500), "1500ms")


class SearchOracleTest(unittest.TestCase):
    """The Python kit's search oracle: the C++ kit's rules (search_oracle.h)."""

    LINE = [(i, [float(i), 0.0]) for i in range(30)]

    def test_exact_neighbours_score_one_and_ties_count(self):
        m = kit.measure_recall("l2", self.LINE, [([10.0, 0.0], None), ([20.0, 0.0], 20)], [[10, 11], [20, 19]], 2)
        self.assertEqual((m.expected, m.found, m.self_queries, m.self_found), (4, 4, 1, 1))
        self.assertTrue(kit.judge_recall(m, 1.0).is_ok)
        self.assertEqual(m.figures()["recall"], 1.0)

    def test_wrong_neighbours_fail_the_floor_naming_what_was_measured(self):
        m = kit.measure_recall("l2", self.LINE, [([10.0, 0.0], None)], [[25, 26, 10, 10]], 3)
        self.assertEqual(m.found, 1)
        self.assertTrue(kit.judge_recall(m, None).is_ok)
        r = kit.judge_recall(m, 0.9)
        self.assertEqual(r.code, "wrong-result")
        self.assertIn("recall@3 is 0.3333", r.message)
        self.assertIn("below min_recall 0.9", r.message)

    def test_a_missed_self_query_fails_but_inner_product_does_not_ask(self):
        m = kit.measure_recall("cosine", [(1, [1.0, 0.0]), (2, [0.0, 1.0])], [([1.0, 0.0], 1)], [[2]], 1)
        self.assertIn("record 1's own vector", kit.judge_recall(m, 0.0).message)
        ip = kit.measure_recall("ip", self.LINE, [([5.0, 0.0], 5)], [[29]], 1)
        self.assertEqual(ip.self_queries, 0)

    def test_a_floor_the_model_cannot_judge_is_refused(self):
        searched = []

        def search(vectors):
            searched.append(len(vectors))
            return [[0] for _ in vectors]
        logged = []
        ctx = mock.Mock(log=logged.append)
        r = kit.oracle_searches("l2", False, 30, 2, 4, 1, 0.5, lambda: self.LINE, random.Random(1), search, ctx)
        self.assertEqual(r.code, "invalid-argument")
        self.assertIn("knows record for record", r.message)
        self.assertEqual(searched, [])
        r = kit.oracle_searches("l2", True, 30, 2, 4, 1, None, lambda: self.LINE, random.Random(1), search, ctx)
        self.assertTrue(r.is_ok)
        self.assertEqual(r.measured["queries"], 4.0)
        self.assertEqual(searched, [4])
        self.assertTrue(any("recall@1" in line for line in logged), logged)

    def test_records_unsure_until_reset(self):
        records = kit.Records()
        records.reset(4)
        self.assertTrue(records.exact())
        records.unsure()
        self.assertFalse(records.exact())
        records.reset(4)
        self.assertTrue(records.exact())
        records.imported(4)
        self.assertFalse(records.exact())

    def test_min_recall_is_a_finite_share(self):
        key = kit._key_spec(kit.find_op("search"), "min_recall")
        self.assertEqual(kit.typed_value(key, 0.5, None), 0.5)
        self.assertEqual(kit.typed_value(key, "1", None), 1.0)
        for bad in (1.5, -0.1, "nan", float("inf"), True):
            with self.assertRaises(kit.InvalidValue, msg=repr(bad)):
                kit.typed_value(key, bad, None)


class InvariantsTest(unittest.TestCase):
    """check_invariants: the driver's check after every ok step while the model knows the store."""

    def run_cell(self, steps, check_invariants=True, with_check=True):
        driver = kit.Driver("inv")
        checked = []
        state = {"broken": False}
        for op in ("create", "count", "truncate", "join", "spawn-workload"):
            driver.on(op, lambda a, ctx: None)
        driver.values("truncate", "file", ["data"])
        driver.values("create", "metric", ["l2"])
        driver.values("spawn-workload", "workload", ["w"])
        driver.layout([kit.LayoutFile("data", "data.bin", 8)])
        driver.on("sleep", lambda a, ctx: state.update(broken=True))  # the step that breaks the store

        def check(a, ctx):
            checked.append(a.index)
            if state["broken"]:
                raise kit.StepError("corrupt", "the store is broken")
        if with_check:
            driver.invariants(check)
        cell = CellDir(self, steps)
        with open(cell.path) as f:
            doc = json.load(f)
        doc["check_invariants"] = check_invariants
        with open(cell.path, "w") as f:
            json.dump(doc, f)
        r, w = os.pipe()
        err = io.StringIO()
        with mock.patch.dict(os.environ, {"CRASHGATE_EVENT_FD": str(w)}), contextlib.redirect_stderr(err):
            status = driver.run_cell(cell.path)
        os.close(w)
        with os.fdopen(r) as f:
            events = [json.loads(line) for line in f.read().splitlines()]
        return status, checked, [e for e in events if e["event"] == "step-end"], err.getvalue()

    def test_checked_after_every_ok_step_from_create_and_a_failure_is_the_steps_error(self):
        status, checked, ends, _ = self.run_cell(
            [{"op": "count"}, {"op": "create"}, {"op": "count"}, {"op": "sleep", "duration": 1}, {"op": "count"}])
        self.assertEqual(checked, [1, 2, 3], "not before the create; the failing check ends the cell at step 3")
        self.assertEqual(status, kit.EXIT_STEP_FAILED)
        self.assertEqual(ends[3]["status"], "error")
        self.assertEqual(ends[3]["code"], "corrupt")
        self.assertTrue(ends[3]["message"].startswith("invariant after this step: the store is broken"), ends[3])

    def test_not_after_outside_damage_nor_while_workloads_run(self):
        status, checked, _, _ = self.run_cell(
            [{"op": "create"}, {"op": "spawn-workload", "workload": "w"}, {"op": "count"}, {"op": "join"},
             {"op": "truncate", "file": "data", "to": "0"}, {"op": "count"}, {"op": "create"}, {"op": "count"}])
        self.assertEqual(status, kit.EXIT_ALL_STEPS_OK)
        self.assertEqual(checked, [0, 3, 6, 7])

    def test_off_unless_the_cell_asks_and_refused_without_a_check(self):
        status, checked, _, _ = self.run_cell([{"op": "create"}, {"op": "count"}], check_invariants=False)
        self.assertEqual((status, checked), (kit.EXIT_ALL_STEPS_OK, []))
        status, _, _, err = self.run_cell([{"op": "create"}], with_check=False)
        self.assertEqual(status, kit.EXIT_CANNOT_RUN)
        self.assertIn("has no invariants check", err)
        status, _, _, err = self.run_cell([{"op": "create"}], check_invariants="yes")
        self.assertEqual(status, kit.EXIT_CANNOT_RUN)
        self.assertIn("check_invariants must be true or false", err)


class ReadStepsTest(unittest.TestCase):
    def steps(self, *steps):
        return kit.read_steps({"protocol": 1, "steps": list(steps)})

    def refused(self, fragment, *steps):
        with self.assertRaises(kit.CellError) as cm:
            self.steps(*steps)
        self.assertIn(fragment, str(cm.exception))

    def test_typed_steps(self):
        a, b = self.steps({"index": 4, "op": "create", "dim": "16", "vectors": 10}, {"op": "sleep", "duration": 250})
        self.assertEqual((a.index, a.op.name, a.values), (4, "create", {"dim": 16, "vectors": 10}))
        self.assertEqual((b.index, b.duration_ms("duration")), (1, 250))

    def test_refusals_name_the_step_and_key(self):
        self.refused("step 0: unknown op 'frobnicate' (crashgate ops lists them)", {"index": 0, "op": "frobnicate"})
        self.refused("step 1 (count): unknown key 'equal' (expected: equals, name, expect)",
                     {"index": 0, "op": "sync"}, {"index": 1, "op": "count", "equal": 3})
        self.refused("step 0 (create): 'dim' must be a whole number from 0 (u64), not \"many\"",
                     {"index": 0, "op": "create", "dim": "many"})
        self.refused("step 2 (get): missing required key 'ids'", {"index": 2, "op": "get"})
        self.refused("step 0: no \"op\"", {"index": 0})
        self.refused("step 0: not an object", 5)
        with self.assertRaises(kit.CellError) as cm:
            kit.read_steps({"protocol": 1})
        self.assertIn('cell.json has no "steps" array', str(cm.exception))


class ArgsTest(unittest.TestCase):
    def args(self, op, **values):
        return kit.read_steps({"steps": [dict({"op": op}, **values)]})[0]

    def test_accessors(self):
        a = self.args("corrupt", file="index", at="header+1", bytes=4, value="u32le:9", expect="error:corrupt")
        self.assertEqual(a.string("file"), "index")
        self.assertEqual(a.string("at"), "header+1")
        self.assertEqual(a.string("value"), "u32le:9")
        self.assertEqual(a.u64("bytes", 1), 4)
        self.assertEqual(a.string("expect"), "error:corrupt")
        self.assertEqual(a.string("name", "unnamed"), "unnamed")
        self.assertTrue(a.has("bytes"))
        self.assertFalse(a.has("while_open"))
        self.assertEqual(a.boolean("while_open", True), True)  # the fallback: absent only
        self.assertEqual(self.args("add", ids=[3, 4]).u64_list("ids"), [3, 4])
        self.assertEqual(self.args("add").u64_list("ids"), [])
        self.assertEqual(self.args("add").table("metadata"), {})
        self.assertEqual(self.args("add", metadata={"k": "v"}).table("metadata"), {"k": "v"})
        self.assertEqual(self.args("spawn-workload", workload="get", stack="64KiB").size("stack", 0), 65536)
        self.assertEqual(self.args("count", equals=0).u64("equals", 7), 0)  # a present 0 is not absent

    def test_driver_bugs(self):
        a = self.args("count", equals=3)
        with self.assertRaises(kit.DriverBug) as cm:
            a.u64("equal", 0)
        self.assertIn("op 'count' has no key 'equal'", str(cm.exception))
        with self.assertRaises(kit.DriverBug) as cm:
            a.string("equals")
        self.assertIn("count.equals is a u64, read as another type", str(cm.exception))
        with self.assertRaises(kit.DriverBug):
            self.args("sleep", duration=5).u64("duration", 0)


def verify_verdict(m, store, count=None) -> str:
    """Records.verify against a store held as {id: vector}: "ok", or "CODE: message"."""
    try:
        m.verify(store.get, count)
    except kit.StepError as e:
        return e.code + ": " + e.message
    return "ok"


class RecordsTest(unittest.TestCase):
    """The records every driver adds (the C++ kit's DriverRecords test holds
    the same values) and the model verify checks against."""

    def test_record_values_are_the_shared_sequence(self):
        self.assertEqual(kit.record_values(7, 4, 42), [-431, -825, 274, 950])
        self.assertEqual(kit.record_values(0, 3, 0), [-452, 757, -609])
        self.assertEqual(kit.file_path_for(7), "src/mcp_vector_search/module_000000/file_00000007.py")
        self.assertEqual(kit.file_path_for(1234567), "src/mcp_vector_search/module_001234/file_01234567.py")
        long = kit.record_values(3, 2100, 9)
        self.assertEqual(long[1024], long[0])
        self.assertEqual(long[2099], long[2099 % 1024])
        self.assertNotEqual(kit.record_values(3, 8, 9), kit.record_values(3, 8, 10))

    def test_record_vector_is_float32(self):
        v = kit.record_vector(7, 4, 42)
        self.assertEqual(struct.pack("<4f", *v), struct.pack("<4f", -0.431, -0.825, 0.274, 0.95))
        self.assertEqual(v[3], struct.unpack("f", struct.pack("f", 0.95))[0])

    def model(self):
        m = kit.Records()
        m.reset(4)
        m.added([0, 1, 2], 5)
        m.added([10], 6)
        m.removed([1])
        store = {i: kit.record_vector(i, 4, 5) for i in (0, 2)}
        store[10] = kit.record_vector(10, 4, 6)
        return m, store

    def verdict(self, m, store, count=None):
        return verify_verdict(m, store, count)

    def test_verify_passes_on_exactly_the_live_records(self):
        m, store = self.model()
        self.assertEqual(self.verdict(m, store, 3), "ok")
        self.assertEqual(list(m.live()), [0, 2, 10])
        self.assertEqual(m.next_id(), 11)
        self.assertEqual(m.sample(2), [0, 10])

    def test_verify_names_the_first_difference(self):
        m, store = self.model()
        del store[2]
        self.assertEqual(self.verdict(m, store), "wrong-result: verify: id 2 was added and not removed, and is missing")
        m, store = self.model()
        store[10] = kit.record_vector(10, 4, 5)
        self.assertIn("verify: id 10 differs at value 0", self.verdict(m, store))
        m, store = self.model()
        store[0] = store[0][:3]
        self.assertEqual(self.verdict(m, store), "wrong-result: verify: id 0 has 3 values, not 4")
        m, store = self.model()
        store[1] = kit.record_vector(1, 4, 5)
        self.assertEqual(self.verdict(m, store), "wrong-result: verify: id 1 was removed and is still there")
        m, store = self.model()
        self.assertEqual(self.verdict(m, store, 4),
                         "wrong-result: verify: the store counts 4 records; 3 were added and not removed")


    def test_an_imported_store_checks_only_what_was_added_since(self):
        m = kit.Records()
        m.imported(4)
        self.assertFalse(m.known())
        self.assertTrue(m.may_hold(12345))  # any id of the files' own
        m.added([100], 5)
        store = {7: [0.5] * 4, 100: kit.record_vector(100, 4, 5)}
        self.assertEqual(self.verdict(m, store, 2), "ok")  # the count is the files' business
        store[100] = kit.record_vector(100, 4, 6)
        self.assertIn("verify: id 100 differs at value 0", self.verdict(m, store, 2))
        m.reset(4)
        self.assertTrue(m.known())
        self.assertFalse(m.may_hold(7))


class RecordModelTest(unittest.TestCase):
    """The record model crash-check reads (record_model.h: the C++ kit's
    RecordModel and CrashExpectation tests hold the same forms), and verify
    after a crash against what the crash must have kept."""

    def test_the_model_travels_as_runs_of_ids(self):
        m = kit.Records()
        m.reset(4)
        m.added([0, 1, 2, 3], 5)
        m.added([4, 5], 6)
        m.added([9], 6)
        m.removed([1, 2, 9])
        self.assertEqual(m.model("l2"), {"dim": 4, "metric": "l2", "live": [[0, 0, 5], [3, 3, 5], [4, 5, 6]],
                                         "removed": [[1, 2], [9, 9]]})
        self.assertEqual(kit.model_to_json(8, {}, []), {"dim": 8, "live": [], "removed": []})

    def test_a_bad_acknowledged_table_is_refused_naming_the_key(self):
        good = {"dim": 4, "acknowledged": True, "must": [[0, 2, 5]], "maybe": [[3, 3, 5]], "gone": [[7, 8]]}
        e = kit.expectation_from_json(good)
        self.assertEqual((e.dim, e.acknowledged, e.must, e.maybe, e.gone), (4, True, {0: 5, 1: 5, 2: 5}, {3: 5}, {7, 8}))
        for bad, why in (([], "not a JSON object"),
                         (dict(good, dim=-1), "dim: -1 is not a dimension"),
                         (dict(good, metric=3), "metric: 3 is not a string"),
                         (dict(good, acknowledged="yes"), "acknowledged: not true or false"),
                         (dict(good, must={}), "must: not a list of runs"),
                         (dict(good, maybe=[[3, 3]]), "maybe[0]: [3,3] is not [first, last, seed] of unsigned numbers"),
                         (dict(good, gone=[[9, 8]]), "gone[0]: 9 .. 8 is not a run of ids"),
                         (dict(good, gone=[[0, 10 ** 9]]), "gone[0]: 0 .. 1000000000 is not a run of ids"),
                         (dict(good, maybe=[[1, 1, 5]]), "id 1 is in must and in maybe or gone"),
                         (dict(good, must=[], gone=[[3, 3]]), "id 3 is in gone and in maybe")):
            with self.assertRaises(ValueError) as raised:
                kit.expectation_from_json(bad)
            self.assertEqual(str(raised.exception), why)
        m = kit.Records()
        m.reset(8)
        with self.assertRaises(kit.StepError) as raised:
            m.expect(good)
        self.assertEqual((raised.exception.code, raised.exception.message),
                         ("invalid-argument", "verify: acknowledged records of dimension 4, but the store's is 8"))
        with self.assertRaises(kit.StepError) as raised:
            m.expect(dict(good, must="x"))
        self.assertEqual(raised.exception.message, "verify: acknowledged: must: not a list of runs")

    def after_crash(self):
        m = kit.Records()
        m.imported(4)  # a recovery cell imports the state's store, then verifies with `acknowledged`
        m.expect({"dim": 4, "acknowledged": True, "must": [[0, 1, 5]], "maybe": [[2, 3, 6]], "gone": [[9, 9]]})
        store = {i: kit.record_vector(i, 4, 5) for i in (0, 1)}
        return m, store

    def verdict(self, m, store, count=None):
        return verify_verdict(m, store, count)

    def test_after_a_crash_the_acknowledged_must_be_exact_and_in_flight_ones_may_be_there_whole(self):
        m, store = self.after_crash()
        self.assertTrue(m.known() and m.after_crash())
        self.assertEqual(m.next_id(), 4)
        self.assertEqual(self.verdict(m, store, 2), "ok")  # nothing written since the sync survived
        store[3] = kit.record_vector(3, 4, 6)
        self.assertEqual(self.verdict(m, store, 3), "ok")  # one did, whole; the count takes it in
        self.assertEqual(self.verdict(m, store, 4), "wrong-result: verify: the store counts 4 records; it holds 2 acknowledged "
                                                    "and 1 of those written since, and nothing else may be there")
        store[2] = kit.record_vector(2, 4, 6)[:2] + [9.0, 9.0]
        self.assertEqual(self.verdict(m, store), "wrong-result: verify: id 2 (written since the last acknowledged sync) is there "
                                                 "but torn: value 2 is 9.0, not " + str(kit.record_vector(2, 4, 6)[2]))
        m, store = self.after_crash()
        del store[1]
        self.assertEqual(self.verdict(m, store), "wrong-result: verify: id 1 was acknowledged durable before the crash, and is missing")
        m, store = self.after_crash()
        store[9] = kit.record_vector(9, 4, 5)
        self.assertEqual(self.verdict(m, store), "wrong-result: verify: id 9 was removed durably before the crash, and is back")
        m.reset(4)
        self.assertFalse(m.after_crash())
        self.assertEqual(m.maybe(), {})

    def test_sync_to_disk_fsyncs_the_file_and_its_directory_and_names_what_failed(self):
        d = tempfile.mkdtemp(prefix="crashgate-kit-sync-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "index.bin")
        with open(path, "wb") as f:
            f.write(b"x")
        synced = []
        real_fsync = os.fsync
        with mock.patch("os.fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real_fsync(fd)):
            kit.sync_to_disk(path)
        self.assertEqual(synced, [path, d])
        with self.assertRaises(kit.StepError) as raised:
            kit.sync_to_disk(os.path.join(d, "missing.bin"))
        self.assertEqual(raised.exception.code, "io")
        self.assertIn(f"open {d}/missing.bin to fsync it: No such file or directory", raised.exception.message)

    def test_records_events_follow_every_ok_step_only_when_asked(self):
        steps = [{"op": "create", "vectors": 3}, {"op": "count", "equals": 3}, {"op": "reopen"},
                 {"op": "count", "equals": 4}]
        r = run_toy(self, steps)
        self.assertEqual(r.returncode, 1, r)
        self.assertNotIn("records", r.names())
        r = run_toy(self, steps, {"CRASHGATE_MODEL_EVENTS": "1"})
        self.assertEqual(r.returncode, 1, r)
        records = [e for e in r.events if e["event"] == "records"]
        model = {"dim": 4, "metric": "flat", "live": [[0, 2, 1]], "removed": []}
        self.assertEqual(records, [{"event": "records", "step": 0, "op": "create", "durable": False, "model": model},
                                   {"event": "records", "step": 1, "op": "count", "durable": False, "model": model},
                                   {"event": "records", "step": 2, "op": "reopen", "durable": True, "model": model}])
        # Each after its step's end, and none after the step that failed.
        names = r.names()
        self.assertEqual(names[names.index("records") - 1], "step-end")
        r = run_toy(self, steps, {"CRASHGATE_MODEL_EVENTS": "1", "TOY_MODEL": "none"})
        self.assertEqual(r.returncode, kit.EXIT_CANNOT_RUN, r)
        self.assertIn("CRASHGATE_MODEL_EVENTS=1, but this driver reports no record model (Driver.record_model)", r.stderr)
        self.assertEqual(r.events, [])


class ImportTest(unittest.TestCase):
    """The import op's kit half: the copy, the header fields, the keys the files also say."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="crashgate-import-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.source = os.path.join(self.dir, "field")
        os.makedirs(os.path.join(self.source, "subdir"))
        with open(os.path.join(self.source, "data.bin"), "wb") as f:
            f.write(bytes(range(256)) * 3)
        with open(os.path.join(self.source, "subdir", "inner"), "wb") as f:
            f.write(b"not copied")
        self.store = os.path.join(self.dir, "store")

    def snapshot(self, root):
        out = {}
        for base, _, files in os.walk(root):
            for name in files:
                path = os.path.join(base, name)
                with open(path, "rb") as f:
                    out[os.path.relpath(path, root)] = (f.read(), os.stat(path).st_mtime_ns)
        return out

    def test_copies_the_regular_files_and_replaces_the_store(self):
        os.makedirs(self.store)
        with open(os.path.join(self.store, "stale"), "wb") as f:
            f.write(b"what the store held before")
        before = self.snapshot(self.source)
        kit.import_store_files(self.source, self.store)
        self.assertEqual(sorted(os.listdir(self.store)), ["data.bin"])
        with open(os.path.join(self.store, "data.bin"), "rb") as f:
            self.assertEqual(f.read(), bytes(range(256)) * 3)
        self.assertEqual(self.snapshot(self.source), before)

    def test_a_missing_or_plain_from_is_named(self):
        missing = os.path.join(self.dir, "nowhere")
        with self.assertRaises(kit.StepError) as e:
            kit.import_store_files(missing, self.store)
        self.assertEqual(e.exception.code, "not-found")
        self.assertIn(missing, e.exception.message)
        plain = os.path.join(self.source, "data.bin")
        with self.assertRaises(kit.StepError) as e:
            kit.import_store_files(plain, self.store)
        self.assertEqual((e.exception.code, e.exception.message), ("invalid-argument", f"import: from = {plain} is not a directory"))
        for source in (self.source, os.path.join(self.source, "subdir")):  # the store itself, or inside it
            with self.assertRaises(kit.StepError) as e:
                kit.import_store_files(source, self.source)
            self.assertEqual(e.exception.code, "invalid-argument")
            self.assertIn("which the import empties", e.exception.message)
        self.assertEqual(sorted(os.listdir(self.source)), ["data.bin", "subdir"])
        # A store inside `from` (a work directory under the field's) is fine: only regular files are copied.
        kit.import_store_files(self.source, os.path.join(self.source, "subdir", "store"))
        self.assertEqual(os.listdir(os.path.join(self.source, "subdir", "store")), ["data.bin"])

    def test_header_fields_and_keys_the_files_say(self):
        layout = kit.LayoutFile("data", "data.bin", 16, "a file", [kit.LayoutField("dim", 4, 2, "a u16")])
        path = os.path.join(self.source, "data.bin")
        self.assertEqual(kit.read_field(layout, path, "dim"), 4 | (5 << 8))
        self.assertIsNone(kit.read_field(layout, path, "nothing"))
        self.assertIsNone(kit.read_field(layout, os.path.join(self.dir, "nowhere"), "dim"))
        op = kit.find_op("import")
        given = kit.Args(op, 0, {"from": "/x", "dim": 8})
        self.assertEqual(kit.settle_import_key(given, "dim", 8, "the header", 64), 8)
        self.assertEqual(kit.settle_import_key(given, "dim", None, "the header", 64), 8)
        self.assertEqual(kit.settle_import_key(kit.Args(op, 0, {"from": "/x"}), "dim", 16, "the header", 64), 16)
        self.assertEqual(kit.settle_import_key(kit.Args(op, 0, {"from": "/x"}), "dim", None, "the header", 64), 64)
        with self.assertRaises(kit.StepError) as e:
            kit.settle_import_key(given, "dim", 16, "the header", 64)
        self.assertEqual((e.exception.code, e.exception.message), ("invalid-argument", "import: dim = 8, but the header says 16"))

    def test_from_is_a_path_made_absolute(self):
        key = kit.find_op("import").key("from")
        self.assertEqual(key.type, kit.PATH)
        self.assertEqual(kit.typed_value(key, "/a/b/../c"), "/a/c")
        self.assertEqual(kit.typed_value(key, "rel"), os.path.join(os.getcwd(), "rel"))
        with self.assertRaises(kit.InvalidValue):
            kit.typed_value(key, "")


class JudgementTest(unittest.TestCase):
    def test_cases(self):
        j = kit.judge_step
        self.assertEqual(j("", True, "", ""), kit.Judgement(True))
        self.assertEqual(j("", False, "corrupt", "bad"), kit.Judgement(False, "corrupt", "bad"))
        self.assertEqual(j("ok", True, "", ""), kit.Judgement(True))
        self.assertEqual(j("ok", False, "io", "eio"), kit.Judgement(False, "wrong-result", "step expected ok, got io: eio"))
        self.assertEqual(j("error", False, "io", "eio"), kit.Judgement(True, note="ended as expected: io: eio"))
        self.assertEqual(j("error", True, "", ""), kit.Judgement(False, "wrong-result", "step expected error, got ok"))
        self.assertEqual(j("error:corrupt", False, "corrupt", ""), kit.Judgement(True, note="ended as expected: corrupt"))
        self.assertEqual(j("error:corrupt", False, "io", "eio"),
                         kit.Judgement(False, "wrong-result", "step expected error:corrupt, got io: eio"))
        self.assertEqual(j("error:corrupt", True, "", ""),
                         kit.Judgement(False, "wrong-result", "step expected error:corrupt, got ok"))
        self.assertEqual(j("bogus", False, "io", "x").code, "wrong-result")

    def test_alternatives_joined_by_a_bar_allow_any_of_them(self):
        j = kit.judge_step
        self.assertEqual(j("ok|error:corrupt", True, "", ""), kit.Judgement(True))
        self.assertEqual(j("ok|error:corrupt", False, "corrupt", "x"), kit.Judgement(True, note="ended as expected: corrupt: x"))
        self.assertEqual(j("ok|error:corrupt", False, "io", "eio"),
                         kit.Judgement(False, "wrong-result", "step expected ok|error:corrupt, got io: eio"))
        self.assertEqual(j("error:io|error:corrupt", True, "", ""),
                         kit.Judgement(False, "wrong-result", "step expected error:io|error:corrupt, got ok"))
        self.assertEqual(j("ok|error", False, "busy", ""), kit.Judgement(True, note="ended as expected: busy"))


class OffsetTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="crashgate-offsets-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.path = os.path.join(self.dir, "data.bin")
        with open(self.path, "wb") as f:  # slot size 24 at offset 4, then 3 slots
            f.write(b"TOY1" + (24).to_bytes(4, "little") + (3).to_bytes(8, "little") + bytes(3 * 24))
        self.file = toy_driver.LAYOUT[0]

    def ev(self, expr, extra=None, file=None):
        return kit.evaluate_offset(file or self.file, self.path, expr, extra)

    def bad(self, expr, fragment, extra=None, file=None):
        with self.assertRaises(kit.OffsetError) as cm:
            self.ev(expr, extra, file)
        self.assertIn(fragment, str(cm.exception))

    def test_terms(self):
        self.assertEqual(self.ev("0"), 0)
        self.assertEqual(self.ev("17"), 17)
        self.assertEqual(self.ev("header"), 16)
        self.assertEqual(self.ev("header-1"), 15)
        self.assertEqual(self.ev("end"), 16 + 72)
        self.assertEqual(self.ev("end - 1"), 87)
        self.assertEqual(self.ev("field(count)"), 8)
        self.assertEqual(self.ev("field(count)+4"), 12)
        self.assertEqual(self.ev("slot(0)"), 16)
        self.assertEqual(self.ev("slot(2)+5"), 16 + 48 + 5)  # the slot size read from the file, little-endian
        fixed = kit.LayoutFile("f", "f.bin", 16, "", [], slot_base=100, slot_size=10)
        self.assertEqual(self.ev("slot(3)", file=fixed), 130)
        self.assertEqual(self.ev("-1+header"), 15)

    def test_extra_terms(self):
        def extra(name, arg):
            if name == "committed" and arg is None:
                return 40
            if name == "header":
                return None  # not one of its own: the layout's
            return None
        self.assertEqual(self.ev("committed+2", extra), 42)
        self.assertEqual(self.ev("header", extra), 16)
        self.bad("nothing", "unknown term 'nothing' for data (header, end, field(NAME), slot(N), or the engine's own)", extra)

    def test_errors(self):
        self.bad("", "it is empty")
        self.bad("header-", "it ends with an operator")
        self.bad("1x", "'1x' is not a number")
        self.bad("slot(", "'(' after slot is not closed")
        self.bad("slot()", "slot() needs a number or a name")
        self.bad("HEADER", "unexpected 'HEADER'")
        self.bad("slot(1)slot(2)", "unexpected 'slot(2)'")
        self.bad("header header", "unknown term 'headerheader'")  # blanks do not separate terms
        self.bad("99999999999999999999999", "is too large")
        self.bad("header-17", "is negative here")
        self.bad("18446744073709551615+1", "is past 2^64")
        self.bad("field(nope)", "data has no header field 'nope' (it has: magic, slot_size, count)")
        self.bad("slot(x)", "slot(x) needs a whole number")
        self.bad("bogus", "unknown term 'bogus' for data (header, end, field(NAME), slot(N))")
        with open(self.path, "r+b") as f:
            f.truncate(6)
        self.bad("slot(1)", "is too short to hold its 4-byte field at 4")
        zero = kit.LayoutFile("z", "z.bin", 16, "", [])
        self.bad("slot(1)", "z has no slots (its slot size is 0)", file=zero)
        os.unlink(self.path)
        self.bad("end", "cannot stat")

    def test_context_offset_is_a_step_error(self):
        driver = toy_driver.make_driver()
        ctx = kit.Context(driver, {"work_dir": self.dir}, kit.Events(-1))
        self.assertEqual(ctx.offset("data", self.path, "slot(1)"), 40)
        with self.assertRaises(kit.StepError) as cm:
            ctx.offset("data", self.path, "field(nope)")
        self.assertEqual(cm.exception.code, "invalid-argument")
        with self.assertRaises(kit.StepError) as cm:
            ctx.offset("nofile", self.path, "0")
        self.assertEqual(cm.exception.code, "invalid-argument")


class SelfCheckTest(unittest.TestCase):
    def fine(self):
        d = kit.Driver("t")
        d.on("count", lambda a, c: None)
        return d

    def assertProblem(self, driver, fragment):
        problems = driver.self_check()
        self.assertTrue(any(fragment in p for p in problems), f"{fragment!r} not in {problems}")

    def test_a_correct_driver_has_no_problems(self):
        self.assertEqual(self.fine().self_check(), [])
        self.assertEqual(toy_driver.make_driver().self_check(), [])

    def test_each_declaration_error(self):
        d = self.fine()
        d.on("frobnicate", lambda a, c: None)
        self.assertProblem(d, "a handler for 'frobnicate', which is not an op of the table")

        d = self.fine()
        d.on("count", lambda a, c: None)
        self.assertProblem(d, "two handlers for 'count'")

        d = self.fine()
        d.on("truncate", lambda a, c: None)
        self.assertProblem(d, "op 'truncate' takes file, whose values are the engine's, but the driver lists none")

        d = self.fine()
        d.values("count", "equals", ["1"])
        self.assertProblem(d, "values for count.equals, which is not a key whose values are the engine's")
        d = self.fine()
        d.on("delete", lambda a, c: None).values("delete", "shape", ["or"])
        self.assertProblem(d, "values for delete.shape, which is not a key whose values are the engine's")

        d = self.fine()
        d.values("read", "what", ["open"])
        self.assertProblem(d, "values for read.what, but no handler for op 'read'")

        d = self.fine()
        d.on("read", lambda a, c: None).values("read", "what", [])
        self.assertProblem(d, "an empty list of values for read.what")

        d = self.fine()
        d.layout([kit.LayoutFile("data", "d.bin", 16, "", [kit.LayoutField("tail", 12, 8, "")])])
        self.assertProblem(d, "layout data.tail: offset 12 + width 8 lies outside the 16-byte header")
        d = self.fine()
        d.layout([{"file": "data", "pattern": "d.bin", "header_size": 16,
                   "fields": [{"name": "w0", "offset": 0, "width": 0}]}])
        self.assertProblem(d, "layout data.w0")

        d = self.fine()
        d.on("truncate", lambda a, c: None).values("truncate", "file", ["data", "journal"])
        d.layout(toy_driver.LAYOUT)
        self.assertProblem(d, "truncate.file accepts 'journal', which the layout does not describe")

        d = self.fine()
        d.listing("ops", lambda: 0)
        self.assertProblem(d, "--list ops is the kit's own")

    def test_a_wrong_driver_runs_no_cell(self):
        d = self.fine()
        d.on("frobnicate", lambda a, c: None)
        c = CellDir(self, [{"op": "count"}])
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(d.main(["drv", "--cell", c.path]), kit.EXIT_CANNOT_RUN)
        self.assertIn("the driver's own declarations are wrong", err.getvalue())


class ListingTest(unittest.TestCase):
    def test_list_ops(self):
        r = run_driver([PYTHON, TOY], ["--list", "ops"])
        self.assertEqual(r.returncode, 0, r)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(lines, [
            {"op": "create", "needs_store": False, "values": {"metric": ["flat"], "variant": ["default"]}},
            {"op": "count", "needs_store": True, "values": {}},
            {"op": "reopen", "needs_store": False, "values": {}},
            {"op": "truncate", "needs_store": False, "values": {"file": ["data"]}},
            {"op": "read", "needs_store": False, "values": {"what": toy_driver.READS}},
            {"op": "sleep", "needs_store": False, "values": {}},
        ])
        # The C++ kit's form: compact, keys in order.
        self.assertEqual(r.stdout.splitlines()[1], '{"needs_store":true,"op":"count","values":{}}')
        self.assertEqual(r.lines, [], "a listing writes no events")

    def test_list_layout(self):
        r = run_driver([PYTHON, TOY], ["--list", "layout"])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual([json.loads(line) for line in r.stdout.splitlines()], [{
            "file": "data", "pattern": "data.bin", "header_size": 16, "meaning": "the toy's data file",
            "fields": [{"name": "magic", "offset": 0, "width": 4, "meaning": "TOY1"},
                       {"name": "slot_size", "offset": 4, "width": 4, "meaning": "bytes per slot"},
                       {"name": "count", "offset": 8, "width": 8, "meaning": "records"}],
            "slot_base": 16, "slot_size_field": "slot_size"}])
        fixed = kit.LayoutFile("f", "f.bin", 8, "m", [], slot_base=8, slot_size=32).as_json()
        self.assertEqual((fixed["slot_base"], fixed["slot_size"]), (8, 32))
        self.assertNotIn("slot_size_field", fixed)
        self.assertNotIn("slot_base", kit.LayoutFile("g", "g.bin", 8, "m", []).as_json())

    def test_other_listings_and_usage(self):
        r = run_driver([PYTHON, TOY], ["--list", "things"])
        self.assertEqual((r.returncode, r.stdout), (0, '{"name":"a"}\n{"name":"b"}\n'))
        r = run_driver([PYTHON, TOY], ["--list", "nope"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--list takes one of ops, layout, things, not 'nope'", r.stderr)
        r = run_driver([PYTHON, TOY], ["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: crashgate-driver-toy --cell WORK_DIR/cell.json", r.stdout)
        self.assertIn("--list ops|layout|things", r.stdout)
        r = run_driver([PYTHON, TOY], [])
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected --cell PATH", r.stderr)
        r = run_driver([PYTHON, TOY], ["--second-process", "x"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("this driver starts no second processes", r.stderr)


class RefusalTest(unittest.TestCase):
    """A cell the driver cannot run: exit 2, the reason on stderr, no events."""

    def refused(self, fragment, steps=None, **cell):
        r = run_toy(self, steps if steps is not None else [{"op": "count"}], **cell)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn(fragment, r.stderr)
        self.assertEqual(r.lines, [], "nothing runs: not even hello")
        return r

    def test_refusals(self):
        self.refused("step 1: unknown op 'frobnicate'", [{"op": "count"}, {"op": "frobnicate"}])
        self.refused("step 1: this driver does not support op 'delete'", [{"op": "count"}, {"op": "delete", "filter": "x"}])
        self.refused("step 0 (count): 'equals' must be a whole number from 0 (u64), not \"many\"",
                     [{"op": "count", "equals": "many"}])
        self.refused("step 0 (sleep): 'duration' must be a duration", [{"op": "sleep", "duration": "soon"}])
        self.refused("step 0 (read): 'what' = \"scan\" is not one the target accepts (it lists: ok, corrupt,",
                     [{"op": "read", "what": "scan"}])
        self.refused("step 0 (truncate): 'file' = \"vectors\" is not one the target accepts (it lists: data)",
                     [{"op": "truncate", "file": "vectors", "to": "0"}])
        self.refused("step 0 (get): missing required key 'ids'", [{"op": "get"}])
        self.refused("not a protocol-1 cell", protocol=2)
        self.refused("not a protocol-1 cell", protocol=None)
        self.refused("not valid JSON", raw="{not json")
        r = run_driver([PYTHON, TOY], ["--cell", "/nonexistent/cell.json"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read /nonexistent/cell.json", r.stderr)

    def test_on_start_refuses(self):
        r = run_toy(self, [{"op": "count"}], env={"TOY_START": "fail"})
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("the toy cannot start today", r.stderr)
        self.assertEqual(r.lines, [])


class RunTest(unittest.TestCase):
    def test_all_ok(self):
        r = run_toy(self, [{"op": "create", "vectors": 3}, {"op": "count", "equals": 3}, {"op": "reopen"},
                           {"op": "sleep", "duration": 1}, {"op": "count"}])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.events[0], {"event": "hello", "protocol": 1, "driver": "toy", "version": "0.1",
                                       "engine": "toystore", "engine_version": "2.3"})
        self.assertEqual(strip_durations(r.events[1:]), [
            {"event": "step-start", "index": 0, "op": "create"},
            {"event": "log", "message": "created 3 records"},
            {"event": "step-end", "index": 0, "status": "ok"},
            {"event": "step-start", "index": 1, "op": "count"},
            {"event": "log", "message": "count = 3"},
            {"event": "step-end", "index": 1, "status": "ok"},
            {"event": "step-start", "index": 2, "op": "reopen"},
            {"event": "step-end", "index": 2, "status": "ok"},
            {"event": "step-start", "index": 3, "op": "sleep"},
            {"event": "step-end", "index": 3, "status": "ok"},
            {"event": "step-start", "index": 4, "op": "count"},
            # before_store_ops: count needs the store, which reopen closed
            {"event": "log", "message": "open store before step 4 (count)"},
            {"event": "log", "message": "count = 3"},
            {"event": "step-end", "index": 4, "status": "ok"},
            {"event": "log", "message": "finish"},
            {"event": "done"},
        ])
        for e in r.events:
            if e["event"] == "step-end":
                self.assertIsInstance(e["duration_ms"], float)
        self.assertGreaterEqual(r.events[10]["duration_ms"], 1.0)  # the sleep

    def test_expected_error_continues(self):
        r = run_toy(self, [{"op": "create"}, {"op": "read", "what": "corrupt", "expect": "error:corrupt"},
                           {"op": "read", "what": "corrupt", "expect": "error"}, {"op": "count"}])
        self.assertEqual(r.returncode, 0, r)
        ends = [e for e in r.events if e["event"] == "step-end"]
        self.assertEqual([e["status"] for e in ends], ["ok", "error", "error", "ok"], "step-end says what happened")
        self.assertEqual((ends[1]["code"], ends[1]["message"]), ("corrupt", "the toy's header is damaged"))
        self.assertIn("step 1 (read) ended as expected: corrupt: the toy's header is damaged", r.logs())
        self.assertIn("step 2 (read) ended as expected: corrupt: the toy's header is damaged", r.logs())
        self.assertEqual(r.names()[-1], "done")

    def test_unexpected_ok_stops(self):
        r = run_toy(self, [{"op": "create"}, {"op": "read", "what": "ok", "expect": "error:corrupt"}, {"op": "count"}])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("step 1 (read): wrong-result: step expected error:corrupt, got ok", r.stderr)
        self.assertNotIn({"event": "step-start", "index": 2, "op": "count"}, r.events, "it stopped at step 1")
        self.assertNotIn("done", r.names())
        self.assertEqual(r.events[-1], {"event": "log", "message": "finish"}, "on_finish still runs")
        self.assertEqual(strip_durations([e for e in r.events if e["event"] == "step-end"])[-1],
                         {"event": "step-end", "index": 1, "status": "ok"})

    def test_other_error_code_stops(self):
        r = run_toy(self, [{"op": "read", "what": "long-message", "expect": "error:corrupt"}, {"op": "count"}])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("step 0 (read): wrong-result: step expected error:corrupt, got io: xxx", r.stderr)

    def test_error_without_expect_stops(self):
        r = run_toy(self, [{"op": "read", "what": "corrupt"}, {"op": "count"}])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("step 0 (read): corrupt: the toy's header is damaged", r.stderr)
        self.assertEqual([e["index"] for e in r.events if e["event"] == "step-start"], [0])
        r = run_toy(self, [{"op": "read", "what": "corrupt", "expect": "ok"}])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("step 0 (read): wrong-result: step expected ok, got corrupt: the toy's header is damaged", r.stderr)

    def test_finish_error_is_a_join_step(self):
        r = run_toy(self, [{"op": "create"}, {"op": "count"}], env={"TOY_FINISH": "error"})
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(strip_durations(r.events[-2:]), [
            {"event": "step-start", "index": 2, "op": "join"},
            {"event": "step-end", "index": 2, "status": "error", "code": "io", "message": "the toy's background work failed"},
        ])
        self.assertIn("background work: io: the toy's background work failed", r.stderr)
        self.assertNotIn("done", r.names())

    def test_handler_exceptions_are_step_errors(self):
        r = run_toy(self, [{"op": "read", "what": "raise", "expect": "error:invalid-argument"},
                           {"op": "read", "what": "undeclared-key", "expect": "error:invalid-argument"},
                           {"op": "read", "what": "wrong-type", "expect": "error:invalid-argument"},
                           {"op": "read", "what": "bad-return", "expect": "error:invalid-argument"},
                           {"op": "read", "what": "raise"}])
        self.assertEqual(r.returncode, 1, r)
        ends = {e["index"]: e for e in r.events if e["event"] == "step-end"}
        self.assertEqual(ends[0]["message"], "step 0 (read): RuntimeError: the toy engine threw")
        self.assertIn("op 'read' has no key 'no_such_key'", ends[1]["message"])
        self.assertIn("read.what is a enum, read as another type", ends[2]["message"])
        self.assertIn("a handler returned int, not a StepResult", ends[3]["message"])
        self.assertIn("step 4 (read): invalid-argument: step 4 (read): RuntimeError: the toy engine threw", r.stderr)

    def test_truncate_through_the_layout(self):
        r = run_toy(self, [{"op": "create", "vectors": 3, "dim": 2}, {"op": "truncate", "file": "data", "to": "slot(1)+five"},
                           {"op": "truncate", "file": "data", "to": "field(nope)", "expect": "error:invalid-argument"},
                           {"op": "truncate", "file": "data", "to": "end-100", "expect": "error:invalid-argument"}])
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("truncated to 29", r.logs())  # 16 + 1 * 8 + 5
        ends = [e for e in r.events if e["event"] == "step-end"]
        self.assertIn("has no header field 'nope'", ends[2]["message"])
        self.assertIn("is negative here", ends[3]["message"])

    def test_long_lines_are_cut(self):
        r = run_toy(self, [{"op": "read", "what": "long-log"},
                           {"op": "read", "what": "long-message", "expect": "error:io"}])
        self.assertEqual(r.returncode, 0, r)
        self.assertIn({"event": "log", "truncated": True}, r.events)
        end = [e for e in r.events if e["event"] == "step-end"][1]
        self.assertEqual(end["message"], "x" * 2000 + "...")
        for line in r.lines:
            self.assertLessEqual(len(line.encode()) + 1, 4001, "each line is cut under PIPE_BUF")
        # The expected error's note is a log line too long as well: cut whole.
        self.assertTrue(any(e == {"event": "log", "truncated": True} for e in r.events[-3:]))


class InProcessEventsTest(unittest.TestCase):
    """The events as written: each os.write one whole JSON line, step-start before the step's work."""

    def test_one_line_per_write_and_step_start_first(self):
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        writes = []
        real_write = os.write
        seen_by_handler = []

        def recording_write(fd, data):
            if fd == w:
                writes.append(bytes(data))
            return real_write(fd, data)

        driver = toy_driver.make_driver()
        inner = driver._handlers["count"]

        def count(args, ctx):  # what had been written when the step's work began
            seen_by_handler.append(json.loads(writes[-1]))
            return inner(args, ctx)
        driver._handlers["count"] = count
        c = CellDir(self, [{"op": "create", "vectors": 2}, {"op": "count"}, {"op": "read", "what": "ok"}, {"op": "count"}])
        before = threading.stack_size()
        err = io.StringIO()
        with mock.patch.dict(os.environ, {"CRASHGATE_EVENT_FD": str(w)}), mock.patch("os.write", recording_write), \
                contextlib.redirect_stderr(err):
            status = driver.run_cell(c.path)
        os.close(w)
        data = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        self.assertEqual(status, 0, err.getvalue())
        self.assertEqual(threading.stack_size(), before, "the default thread stack size is restored")
        self.assertGreater(len(writes), 8)
        for chunk in writes:
            self.assertTrue(chunk.endswith(b"\n") and chunk.count(b"\n") == 1, f"one whole line per write: {chunk!r}")
            json.loads(chunk)
        self.assertEqual(b"".join(writes), data, "the pipe holds exactly the writes, in order")
        self.assertEqual(seen_by_handler, [{"event": "step-start", "index": 1, "op": "count"},
                                           {"event": "step-start", "index": 3, "op": "count"}])
        self.assertEqual(json.loads(writes[0])["event"], "hello")
        self.assertEqual(json.loads(writes[-1]), {"event": "done"})

    def test_no_event_fd(self):
        events = kit.Events(-1)
        events.hello("x", "1")  # nothing to write to: no error
        with mock.patch.dict(os.environ, {"CRASHGATE_EVENT_FD": "987"}):
            self.assertEqual(kit.Events().fd, -1, "a closed fd is no event pipe")


class WorkerStackTest(unittest.TestCase):
    def stack_log(self, r):
        return next(m for m in r.logs() if m.startswith("stack "))

    def test_the_worker_has_the_cells_stack(self):
        for size in (256 * 1024, 1024 * 1024, 3 * 1024 * 1024 + 4096):
            r = run_toy(self, [{"op": "read", "what": "stack"}], worker_stack=size)
            self.assertEqual(r.returncode, 0, r)
            self.assertEqual(self.stack_log(r), f"stack {size} main False name crashgate-worker")

    def test_without_worker_stack_a_default_worker(self):
        r = run_toy(self, [{"op": "read", "what": "stack"}])
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(self.stack_log(r), r"^stack \d+ main False name crashgate-worker$")

    def test_never_a_reused_larger_stack(self):
        # glibc gives a new thread the cached stack of an ended one when it is at
        # most 4 times the size asked for: a default (8 MiB) thread that ended
        # would become a 2 MiB worker's stack. The kit refuses to run on it.
        code = ("import sys, threading; sys.path.insert(0, %r); import toy_driver; "
                "t = threading.Thread(target=lambda: None); t.start(); t.join(); "
                "sys.exit(toy_driver.make_driver().main(sys.argv))" % HERE)
        c = CellDir(self, [{"op": "read", "what": "stack"}], worker_stack=2 * 1024 * 1024)
        r = run_driver([PYTHON, "-c", code], ["--cell", c.path])
        if r.returncode == 0:  # this C library gave the worker a stack of its own
            self.assertEqual(self.stack_log(r), f"stack {2 * 1024 * 1024} main False name crashgate-worker")
        else:
            self.assertEqual(r.returncode, 2, r)
            self.assertIn("not the cell's worker_stack of 2 MiB", r.stderr)
            self.assertNotIn("step-start", r.names())

    def test_deep_c_recursion_on_a_small_stack_dies(self):
        # The probe's recursion on a 512 KiB thread: SIGSEGV, not RecursionError.
        code = ("import sys, threading; sys.path.insert(0, %r); import crashgate_driver as kit; "
                "t = kit.start_thread(512 * 1024, lambda: print(kit.overflow_c_stack())); t.join(); print('returned')"
                % KIT_DIR)
        proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, -signal.SIGSEGV, proc.stderr)
        self.assertNotIn("returned", proc.stdout)


class ProbeTest(unittest.TestCase):
    """CRASHGATE_PROBE: the driver dies of SIGSEGV inside step 0, on the worker's stack."""

    def probe(self, command, which, worker_stack=512 * 1024):
        c = CellDir(self, [{"op": "create", "dim": 8, "vectors": 20}], worker_stack=worker_stack)
        return run_driver(command, ["--cell", c.path], {"CRASHGATE_PROBE": which})

    def check_probes(self, command, name):
        r = self.probe(command, "stack")
        self.assertEqual(r.returncode, -signal.SIGSEGV, r)
        hello = r.events[0] if r.events else {}
        self.assertEqual(r.events, [{"event": "hello", "protocol": 1, "driver": name, "version": hello.get("version"),
                                     **{k: hello[k] for k in ("engine", "engine_version") if k in hello}},
                                    {"event": "step-start", "index": 0, "op": "probe-stack"}])
        self.assertNotIn("RecursionError", r.stderr)
        self.assertNotIn("MemoryError", r.stderr)
        r = self.probe(command, "crash-in-step")
        self.assertEqual(r.returncode, -signal.SIGSEGV, r)
        self.assertEqual(r.events[1:], [{"event": "step-start", "index": 0, "op": "probe-crash"}])
        r = self.probe(command, "nonsense")
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("CRASHGATE_PROBE=nonsense: unknown probe (stack, crash-in-step)", r.stderr)

    def test_probes_on_the_toy(self):
        self.check_probes([PYTHON, TOY], "toy")

    def test_probes_on_the_example_driver(self):
        if not have_hnswlib():
            self.skipTest(f"hnswlib cannot be imported by {PYTHON} (Debian: python3-hnswlib)")
        command = [EXAMPLE_LAUNCHER] if os.access(EXAMPLE_LAUNCHER, os.X_OK) else \
            [PYTHON, os.path.join(EXAMPLE_DIR, "crashgate_driver_pyhnswlib.py")]
        env_path = os.pathsep.join([KIT_DIR, EXAMPLE_DIR])
        with mock.patch.dict(os.environ, {"PYTHONPATH": env_path}):
            self.check_probes(command, "pyhnswlib")

    def test_stack_probe_overflows_the_workers_guard_page(self):
        # crashgate itself explains the crash: a stack overflow in the guard page
        # of a thread (not the main one) whose stack is the cell's 512 KiB.
        need_crashgate(self)
        c = CellDir(self, [{"op": "create", "dim": 8, "vectors": 20}], worker_stack=512 * 1024)
        env = dict(os.environ, CRASHGATE_PROBE="stack", CRASHGATE_SOURCE_DIR=SOURCE_DIR, PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run([CRASHGATE_BIN, "exec", "--json", "--", PYTHON, TOY, "--cell", c.path], env=env,
                              capture_output=True, text=True, timeout=300)
        result = json.loads(proc.stdout)
        self.assertEqual(result["kind"], "stack-overflow", result["detail"])
        self.assertEqual(result["signal"], "SIGSEGV")
        attribution = result["attribution"]
        self.assertTrue(attribution["stack_guard"], attribution)
        self.assertEqual(attribution["thread_stack_size"], 512 * 1024)
        self.assertNotEqual(attribution["stack_thread"], result["crashed_pid"], "the worker, not the main thread")


if __name__ == "__main__":
    unittest.main()
