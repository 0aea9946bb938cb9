"""A tiny driver on the Python driver kit, for the kit's own tests
(test_crashgate_driver.py): its store is a counter, and a small data file
(WORK/data.bin) with a 16-byte header gives the layout something to describe.

Run as a script it is a driver: toy_driver.py --cell WORK/cell.json.
TOY_FINISH=error makes on_finish fail; TOY_START=fail makes on_start refuse.
"""

import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("CRASHGATE_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "harness", "driver_kit", "python"))

import crashgate_driver as kit  # noqa: E402

# data.bin: magic (4 bytes), slot size (u32 le), record count (u64 le), then the slots.
LAYOUT = [
    kit.LayoutFile("data", "data.bin", 16, "the toy's data file",
                   [kit.LayoutField("magic", 0, 4, "TOY1"),
                    kit.LayoutField("slot_size", 4, 4, "bytes per slot"),
                    kit.LayoutField("count", 8, 8, "records")],
                   slot_base=16, slot_size_field="slot_size"),
]
READS = ["ok", "corrupt", "raise", "stack", "long-message", "long-log", "undeclared-key", "wrong-type", "bad-return"]


def make_driver() -> kit.Driver:
    driver = kit.Driver("toy", "0.1").engine("toystore", "2.3")
    state = {"records": 0, "open": False}

    def data_path(ctx):
        return os.path.join(ctx.work_dir, "data.bin")

    @driver.on_start
    def start(cell, ctx):
        if os.environ.get("TOY_START") == "fail":
            return "the toy cannot start today"
        return None

    @driver.before_store_ops
    def open_store(args, ctx):
        if not state["open"]:
            ctx.log(f"open store before step {args.index} ({args.op.name})")
            state["open"] = True

    @driver.on("create")
    def create(args, ctx):
        n = args.u64("vectors", 0)
        slot = 4 * args.u64("dim", 4)
        with open(data_path(ctx), "wb") as f:
            f.write(b"TOY1" + slot.to_bytes(4, "little") + n.to_bytes(8, "little") + bytes(n * slot))
        state["records"] = n
        state["open"] = True
        ctx.log(f"created {n} records")
        return kit.StepResult.ok()

    @driver.on("count")
    def count(args, ctx):
        ctx.log(f"count = {state['records']}")
        if args.has("equals") and args.u64("equals") != state["records"]:
            return kit.StepResult.error("wrong-result", f"count is {state['records']}, expected {args.u64('equals')}")
        return kit.StepResult.ok()

    @driver.on("reopen")
    def reopen(args, ctx):
        state["open"] = False

    @driver.on("read")
    def read(args, ctx):
        what = args.string("what")
        if what == "corrupt":
            raise kit.StepError("corrupt", "the toy's header is damaged")
        if what == "raise":
            raise RuntimeError("the toy engine threw")
        if what == "stack":
            main = threading.current_thread() is threading.main_thread()
            ctx.log(f"stack {kit.thread_stack_size()} main {main} name {threading.current_thread().name}")
        if what == "long-message":
            return kit.StepResult.error("io", "x" * 10_000)
        if what == "long-log":
            ctx.log("y" * 5_000)
        if what == "undeclared-key":
            args.u64("no_such_key", 1)
        if what == "wrong-type":
            args.u64("what", 1)
        if what == "bad-return":
            return 42
        return None

    @driver.on("truncate")
    def truncate(args, ctx):
        def extra(name, arg):
            return 5 if name == "five" and arg is None else None
        to = ctx.offset(args.string("file"), data_path(ctx), args.string("to"), extra)
        os.truncate(data_path(ctx), to)
        ctx.log(f"truncated to {to}")

    @driver.on("sleep")
    def sleep(args, ctx):
        time.sleep(args.duration_ms("duration", 0) / 1000)

    @driver.on_finish
    def finish(ctx):
        ctx.log("finish")
        if os.environ.get("TOY_FINISH") == "error":
            return kit.StepResult.error("io", "the toy's background work failed")
        return None

    @driver.listing("things")
    def things():
        return [{"name": "a"}, {"name": "b"}]

    driver.values("create", "metric", ["flat"]).values("read", "what", READS).values("truncate", "file", ["data"])
    driver.layout(LAYOUT)
    if os.environ.get("TOY_MODEL") != "none":
        # The toy's records are ids 0..n-1 of seed 1; a reopen is its sync.
        driver.record_model(lambda: kit.model_to_json(4, {i: 1 for i in range(state["records"])}, [], "flat"),
                            lambda op: op == "reopen")
    return driver


if __name__ == "__main__":
    sys.exit(make_driver().main(sys.argv))
