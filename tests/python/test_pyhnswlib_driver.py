"""The example driver, hnswlib through python3-hnswlib
(targets/pyhnswlib/driver/crashgate_driver_pyhnswlib.py), end to end: its
tables, its layout against a file hnswlib really wrote, a few cells run
directly, and the scenarios of tests/python/data run through crashgate itself
with the generated BUILD/bin/crashgate-driver-pyhnswlib.

Run by ctest (`ctest -L python`) with CRASHGATE_BIN, CRASHGATE_SOURCE_DIR and
CRASHGATE_BUILD_DIR set. Skipped only when /usr/bin/python3 cannot import hnswlib.
"""

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_crashgate_driver import (  # noqa: E402
    CRASHGATE_BIN, EXAMPLE_DIR, EXAMPLE_LAUNCHER, SOURCE_DIR, CellDir, have_hnswlib, need_crashgate, run_driver,
    strip_durations,
)

sys.path.insert(0, EXAMPLE_DIR)
import crashgate_driver as kit  # noqa: E402
import crashgate_driver_pyhnswlib as pyh  # noqa: E402

DATA = os.path.join(HERE, "data")
NO_HNSWLIB = "" if have_hnswlib() else f"hnswlib cannot be imported by {sys.executable} (Debian: apt-get install python3-hnswlib)"


def need_launcher(test: unittest.TestCase) -> None:
    if not os.access(EXAMPLE_LAUNCHER, os.X_OK):
        test.fail(f"{EXAMPLE_LAUNCHER} is missing: configure the build (cmake --preset ...) to generate it")


class TablesTest(unittest.TestCase):
    """What the driver declares; these need no hnswlib."""

    def test_self_check(self):
        self.assertEqual(pyh.make_driver().self_check(), [])

    def test_list_ops(self):
        need_launcher(self)
        r = run_driver([EXAMPLE_LAUNCHER], ["--list", "ops"])
        self.assertEqual(r.returncode, 0, r)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([line["op"] for line in lines],
                         ["create", "import", "add", "search", "remove", "count", "sync", "reopen", "get", "verify", "truncate",
                          "corrupt", "read", "sleep"])
        by_op = {line["op"]: line for line in lines}
        self.assertEqual(by_op["create"]["values"], {"metric": ["l2", "ip", "cosine"], "variant": ["default"]})
        self.assertEqual(by_op["import"]["values"], {"metric": ["l2", "ip", "cosine"]})
        self.assertEqual(by_op["truncate"]["values"], {"file": ["index"]})
        self.assertEqual(by_op["corrupt"]["values"], {"file": ["index"]})
        self.assertEqual(by_op["read"]["values"], {"what": ["open", "count", "get", "search"]})
        for line in lines:
            self.assertEqual(line["needs_store"], kit.find_op(line["op"]).needs_store)

    def test_list_layout(self):
        need_launcher(self)
        r = run_driver([EXAMPLE_LAUNCHER], ["--list", "layout"])
        self.assertEqual(r.returncode, 0, r)
        (index,) = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual((index["file"], index["pattern"], index["header_size"]), ("index", "index.bin", 96))
        self.assertEqual((index["slot_base"], index["slot_size_field"]), (96, "size_data_per_element"))
        self.assertEqual([(f["name"], f["offset"], f["width"]) for f in index["fields"]], [
            ("offsetLevel0", 0, 8), ("max_elements", 8, 8), ("cur_element_count", 16, 8),
            ("size_data_per_element", 24, 8), ("label_offset", 32, 8), ("offsetData", 40, 8), ("maxlevel", 48, 4),
            ("enterpoint_node", 52, 4), ("maxM", 56, 8), ("maxM0", 64, 8), ("M", 72, 8), ("mult", 80, 8),
            ("ef_construction", 88, 8)])


@unittest.skipIf(NO_HNSWLIB, NO_HNSWLIB)
class LayoutTest(unittest.TestCase):
    """The layout read against a file hnswlib's saveIndex wrote."""

    def test_header_fields_and_slots(self):
        import hnswlib
        import numpy as np
        tmp = tempfile.mkdtemp(prefix="pyhnswlib-layout-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "index.bin")
        dim, n, m, efc = 12, 150, 8, 50
        index = hnswlib.Index(space="l2", dim=dim)
        index.init_index(max_elements=200, M=m, ef_construction=efc, random_seed=3)
        index.set_num_threads(1)
        index.add_items(np.random.default_rng(1).random((n, dim), dtype=np.float32), np.arange(1000, 1000 + n))
        index.save_index(path)
        with open(path, "rb") as f:
            data = f.read()
        layout = pyh.LAYOUT[0]

        def field(name, fmt):
            f = layout.field(name)
            self.assertEqual(struct.calcsize(fmt), f.width, name)
            return struct.unpack_from(fmt, data, f.offset)[0]

        links0 = 2 * m * 4 + 4
        self.assertEqual(field("offsetLevel0", "<Q"), 0)
        self.assertEqual(field("max_elements", "<Q"), 200)
        self.assertEqual(field("cur_element_count", "<Q"), n)
        self.assertEqual(field("size_data_per_element", "<Q"), links0 + dim * 4 + 8)
        self.assertEqual(field("label_offset", "<Q"), links0 + dim * 4)
        self.assertEqual(field("offsetData", "<Q"), links0)
        self.assertGreaterEqual(field("maxlevel", "<i"), 0)
        self.assertLess(field("enterpoint_node", "<I"), n)
        self.assertEqual((field("maxM", "<Q"), field("maxM0", "<Q"), field("M", "<Q")), (m, 2 * m, m))
        self.assertAlmostEqual(field("mult", "<d"), 1 / math.log(m))
        self.assertEqual(field("ef_construction", "<Q"), efc)
        self.assertEqual(sum(f.width for f in layout.fields), layout.header_size, "the fields tile the header")
        # slot(N) is element N: its label where label_offset says, its vector at offsetData.
        for i in (0, 1, 77, n - 1):
            slot = kit.evaluate_offset(layout, path, f"slot({i})")
            self.assertEqual(struct.unpack_from("<Q", data, slot + links0 + dim * 4)[0], 1000 + i)
            vector = np.frombuffer(data, dtype=np.float32, count=dim, offset=slot + links0)
            self.assertTrue(np.array_equal(vector, np.asarray(index.get_items([1000 + i])[0], dtype=np.float32)))
        # links: where the level-0 slots end and each element's upper-level link lists begin.
        links = pyh.Session.extra_term(type("S", (), {"path": path})(), "links", None)
        self.assertEqual(links, 96 + n * (links0 + dim * 4 + 8))
        pos = links
        for _ in range(n):
            size = struct.unpack_from("<I", data, pos)[0]
            pos += 4 + size
        self.assertEqual(pos, len(data), "the link lists run to the end of the file")


@unittest.skipIf(NO_HNSWLIB, NO_HNSWLIB)
@unittest.skipIf(NO_HNSWLIB, NO_HNSWLIB)
class RecordsTest(unittest.TestCase):
    def test_numpy_vectors_are_the_kits_records(self):
        pyh.import_engine()
        ids = [0, 1, 7, 999, 123456]
        got = pyh.record_vectors(ids, 1030, 42)
        for row, i in enumerate(ids):
            self.assertEqual(got[row].tolist(), kit.record_vector(i, 1030, 42), i)


class DirectTest(unittest.TestCase):
    """Cells run by the driver directly (events read from its pipe)."""

    def setUp(self):
        need_launcher(self)

    def run_cell(self, steps, **cell):
        c = CellDir(self, steps, **cell)
        return run_driver([EXAMPLE_LAUNCHER], ["--cell", c.path]), c

    def test_a_torn_vector_is_caught_by_verify(self):
        # dim 16, M 16: a slot is 132 bytes of links, then the vector.
        r, _ = self.run_cell([{"op": "create", "dim": 16, "vectors": 50}, {"op": "verify"},
                              {"op": "corrupt", "file": "index", "at": "slot(7)+132", "bytes": 4, "value": "u32le:1"},
                              {"op": "verify"}])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("step 3 (verify): wrong-result: record 7 comes back different from what was added", r.stderr)

    def test_model_errors_and_refusals(self):
        r, c = self.run_cell([
            {"op": "create", "dim": 8, "vectors": 20},
            {"op": "add", "vectors": 5, "metadata": {"lang": "py"}, "expect": "error:invalid-argument"},
            {"op": "search", "filter": "lang = 'py'", "expect": "error:invalid-argument"},
            {"op": "create", "hnsw": False, "expect": "error:invalid-argument"},
            {"op": "get", "ids": [999], "expect": "error:not-found"},
            {"op": "remove", "ids": [999], "expect": "error:not-found"},
            {"op": "count", "equals": 21, "expect": "error:wrong-result"},
            {"op": "corrupt", "file": "index", "at": "0", "bytes": 2, "value": "u32le:1", "expect": "error:invalid-argument"},
            {"op": "truncate", "file": "index", "to": "field(no_such_field)", "expect": "error:invalid-argument"},
            {"op": "truncate", "file": "index", "to": "end+1"},
            {"op": "read", "what": "count", "expect": "error:corrupt"},
        ])
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(os.path.exists(os.path.join(c.dir, "store", "index.bin")))
        self.assertEqual(r.names()[-1], "done")

    def test_no_store_yet(self):
        r, _ = self.run_cell([{"op": "count"}])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("step 0 (count): not-found: there is no store", r.stderr)

    def test_the_same_seed_the_same_events(self):
        steps = [{"op": "create", "dim": 8, "vectors": 50}, {"op": "add", "vectors": 10}, {"op": "search", "queries": 5},
                 {"op": "remove", "count": 5}, {"op": "count"}, {"op": "verify"}]
        first, _ = self.run_cell(steps, worker_stack=1 << 20)
        second, _ = self.run_cell(steps, worker_stack=1 << 20)
        self.assertEqual(first.returncode, 0, first)
        self.assertEqual(strip_durations(first.events), strip_durations(second.events))

    def test_regression_switches_are_refused(self):
        c = CellDir(self, [{"op": "count"}])
        r = run_driver([EXAMPLE_LAUNCHER], ["--cell", c.path], {"CRASHGATE_REGRESSION": "unvalidated-header"})
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("this driver has no regression switches", r.stderr)


def snapshot(root):
    """Every file under root: its bytes and its mtime."""
    out = {}
    for base, _, files in os.walk(root):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = (f.read(), os.stat(path).st_mtime_ns)
    return out


def step_ends(r):
    return [e for e in r.events if e["event"] == "step-end"]


@unittest.skipIf(NO_HNSWLIB, NO_HNSWLIB)
class ImportTest(unittest.TestCase):
    """A store one cell made, imported by another: the import op."""

    def setUp(self):
        need_launcher(self)
        made = CellDir(self, [{"op": "create", "dim": 8, "vectors": 50, "metric": "ip"}, {"op": "add", "vectors": 10},
                              {"op": "remove", "ids": [3]}, {"op": "sync"}, {"op": "count", "equals": 59}])
        r = run_driver([EXAMPLE_LAUNCHER], ["--cell", made.path])
        self.assertEqual(r.returncode, 0, r)
        self.source = os.path.join(made.dir, "store")

    def run_cell(self, steps):
        c = CellDir(self, steps)
        return run_driver([EXAMPLE_LAUNCHER], ["--cell", c.path]), c

    def test_the_imported_store_reads_and_counts_what_the_first_cell_stored(self):
        before = snapshot(self.source)
        r, c = self.run_cell([{"op": "import", "from": self.source, "metric": "ip"},
                              {"op": "read", "what": "open"}, {"op": "read", "what": "count"},
                              {"op": "count", "equals": 59}, {"op": "search", "queries": 5}, {"op": "read", "what": "search"},
                              {"op": "verify"}, {"op": "add", "ids": [1000]}, {"op": "verify"},
                              {"op": "reopen"}, {"op": "count", "equals": 60}])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual([e["status"] for e in step_ends(r)], ["ok"] * 11)
        self.assertIn(f"imported {self.source} into {c.dir}/store: 8 dimensions, ip (the next store op loads it)", r.logs())
        self.assertEqual(snapshot(self.source), before, "the source directory is only read")

    def test_a_dim_that_disagrees_with_the_header_is_refused(self):
        r, _ = self.run_cell([{"op": "import", "from": self.source, "dim": 16}])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("step 0 (import): invalid-argument: import: dim = 16, but index.bin's label_offset - offsetData "
                      "(4 bytes a value) says 8", r.stderr)

    def test_a_missing_from_is_a_clean_error_naming_it(self):
        missing = os.path.join(self.source, "no-such-dir")
        r, _ = self.run_cell([{"op": "import", "from": missing}, {"op": "count"}])
        self.assertEqual(r.returncode, 1, r)
        (end,) = step_ends(r)
        self.assertEqual(end["code"], "not-found")
        self.assertIn(missing, end["message"])

    def test_a_truncated_index_fails_where_it_is_opened(self):
        # As pyhnswlib-truncated-index expects of a store the driver made: corrupt on open, not at the import.
        damaged = os.path.join(tempfile.mkdtemp(prefix="pyhnswlib-field-"), "field")
        self.addCleanup(shutil.rmtree, os.path.dirname(damaged), True)
        shutil.copytree(self.source, damaged)
        index = os.path.join(damaged, "index.bin")
        os.truncate(index, os.path.getsize(index) // 2)
        r, _ = self.run_cell([{"op": "import", "from": damaged}, {"op": "read", "what": "count"}])
        ends = step_ends(r)
        self.assertEqual(ends[0]["status"], "ok", r)
        self.assertNotEqual(r.returncode, 0, r)
        if len(ends) == 2:  # a clean refusal (a crash would leave the step without its end)
            self.assertEqual((ends[1]["status"], ends[1]["code"]), ("error", "corrupt"), r)


@unittest.skipIf(NO_HNSWLIB, NO_HNSWLIB)
class ThroughCrashgateTest(unittest.TestCase):
    """tests/python/data run by crashgate with this build's driver."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pyhnswlib-run-")
        cls.results = None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def run_scenarios(self):
        if ThroughCrashgateTest.results is not None:
            return ThroughCrashgateTest.results
        need_crashgate(self)
        need_launcher(self)
        # A build root whose release build holds this build's driver, whatever preset this is.
        root = os.path.join(self.tmp, "build-root")
        os.makedirs(os.path.join(root, "release", "bin"))
        os.symlink(EXAMPLE_LAUNCHER, os.path.join(root, "release", "bin", "crashgate-driver-pyhnswlib"))
        out = os.path.join(self.tmp, "out")
        proc = subprocess.run([CRASHGATE_BIN, "run", DATA, "--target", "pyhnswlib", "--build", "release",
                               "--build-root", root, "--out", out, "-j", "2"],
                              cwd=SOURCE_DIR, capture_output=True, text=True, timeout=900)
        with open(os.path.join(out, "latest", "results.json")) as f:
            ThroughCrashgateTest.results = (proc, json.load(f))
        return ThroughCrashgateTest.results

    def cells(self, scenario):
        _, results = self.run_scenarios()
        cells = [c for c in results["cells"] if c["scenario"] == scenario]
        self.assertTrue(cells, f"no cells of {scenario}")
        for c in cells:
            self.assertEqual(c["verdict"], "pass", f"{c['id']}: {c['unmet']} ({c['outcome']['detail']})")
        return cells

    def test_every_cell_passes(self):
        proc, results = self.run_scenarios()
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:] + proc.stderr[-3000:])
        self.assertEqual(results["counts"]["pass"], len(results["cells"]))
        self.assertEqual(len(results["cells"]), 27)

    def test_lifecycle(self):
        cells = self.cells("pyhnswlib-lifecycle")
        self.assertEqual(sorted(c["params"]["metric"] for c in cells), ["cosine", "ip", "l2"])
        for c in cells:
            self.assertEqual(c["outcome"]["kind"], "ok")
            self.assertEqual(c["outcome"]["exit_code"], 0)
            steps = c["outcome"]["steps"]
            self.assertEqual(len(steps), 18)
            self.assertTrue(all(s["status"] == "ok" for s in steps), steps)  # the expected not-founds judged ok
            # The kit's oracle measured the search step against its exact search, per metric.
            measured = steps[2]["measured"]
            self.assertGreaterEqual(measured["recall"], 0.9, c["id"])
            self.assertEqual(measured["queries"], 20)
            if c["params"]["metric"] != "ip":
                self.assertEqual(measured["self_found"], measured["self_queries"], c["id"])

    def test_truncated_index_is_corrupt_on_open(self):
        cells = self.cells("pyhnswlib-truncated-index")
        self.assertEqual(len(cells), 12)
        for c in cells:
            # The read step's expect = "error:corrupt" met: crashgate judged it ok, and the cell ran to the end.
            self.assertEqual(c["outcome"]["kind"], "ok", c["id"])
            self.assertEqual([s["status"] for s in c["outcome"]["steps"]], ["ok", "ok", "ok"])

    def test_detected_header_damage(self):
        for c in self.cells("pyhnswlib-detected-header-damage"):
            self.assertEqual((c["outcome"]["kind"], c["outcome"]["failed_step"]), ("error", 2), c["id"])
            self.assertEqual(c["outcome"]["steps"][2]["code"], "corrupt")
            self.assertIn("Index seems to be corrupted or unsupported", c["outcome"]["steps"][2]["message"])

    def test_unchecked_header_fields(self):
        cells = self.cells("pyhnswlib-unchecked-header-fields")
        self.assertEqual(len(cells), 5)
        for c in cells:
            self.assertEqual(c["outcome"]["kind"], "ok", c["id"])

    def test_entry_point_sigsegv(self):
        for c in self.cells("pyhnswlib-entry-point-sigsegv"):
            o = c["outcome"]
            self.assertEqual((o["kind"], o["signal"], o["failed_step"]), ("signal", "SIGSEGV", 3), c["id"])
            self.assertEqual([s["status"] for s in o["steps"][:3]], ["ok", "ok", "ok"], "open alone was fine")

    def test_top_level_overread(self):
        (c,) = self.cells("pyhnswlib-top-level-overread")
        self.assertIn(c["outcome"]["kind"], ("error", "signal"))
        self.assertEqual(c["outcome"]["failed_step"], 2)



@unittest.skipIf(NO_HNSWLIB, NO_HNSWLIB)
class CrashCheckTest(unittest.TestCase):
    """crashgate crash-check through the Python kit: the driver's records
    events, the recovery cells' verify with `acknowledged`, and a finding in
    hnswlib's saveIndex named by the extension module's frame."""

    def test_a_save_over_an_earlier_save_loses_it_and_is_named_in_the_extension(self):
        need_crashgate(self)
        need_launcher(self)
        tmp = tempfile.mkdtemp(prefix="pyhnswlib-crash-check-")
        self.addCleanup(shutil.rmtree, tmp, True)
        root = os.path.join(tmp, "build-root")
        os.makedirs(os.path.join(root, "release", "bin"))
        os.symlink(EXAMPLE_LAUNCHER, os.path.join(root, "release", "bin", "crashgate-driver-pyhnswlib"))
        scenario = os.path.join(tmp, "pyhnswlib-resave.toml")
        with open(scenario, "w") as f:
            f.write('name = "pyhnswlib-resave"\nsummary = "a save over an earlier one, cut by power"\n'
                    'targets = ["pyhnswlib"]\nbuilds = ["release"]\n[crash_states]\nmodel = "posix"\nsteps = [2, 2]\n'
                    '[[step]]\nop = "create"\ndim = 8\nvectors = 60\n[[step]]\nop = "add"\nvectors = 20\n'
                    '[[step]]\nop = "sync"\n[expect]\noutcome = "ok"\n')
        out = os.path.join(tmp, "out")
        proc = subprocess.run([CRASHGATE_BIN, "crash-check", scenario, "--build-root", root, "--out", out, "-j", "2"],
                              cwd=SOURCE_DIR, capture_output=True, text=True, timeout=600)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        (run,) = os.listdir(out)
        with open(os.path.join(out, run, "crash-check.json")) as f:
            report = json.load(f)
        (recorded,) = report["recorded"]
        self.assertEqual(recorded["error"], "")
        # create, add and sync each wrote a records event; create's and sync's saves are durable.
        self.assertEqual(recorded["records_events"], 3)
        self.assertLess(recorded["crash_points"], recorded["calls"] / 2, "only the second save's calls are crash points")
        with open(os.path.join(out, run, "results.json")) as f:
            cells = json.load(f)["cells"]
        self.assertGreater(len(cells), 3)
        passed = [c for c in cells if c["verdict"] == "pass"]
        self.assertTrue(passed, "the states before the save began, or after it ended, recover")
        kinds = {v["kind"] for v in report["vulnerabilities"]}
        self.assertTrue(kinds & {"torn", "drop"}, report["vulnerabilities"])
        for v in report["vulnerabilities"]:
            self.assertIn("hnswlib.cpython", v["call_site"], v)
            self.assertIn(f"crashgate repro {v['states'][0]}", v["repro"])
        for c in cells:
            if c["verdict"] != "pass":
                # HNSWLIB-15's states: the load refuses the torn file, or verify finds the first save's records gone.
                self.assertIn(c["outcome"]["crash_state"], ("error corrupt in verify", "error wrong-result in verify"), c)

if __name__ == "__main__":
    unittest.main()
