"""The Python driver kit: what every crashgate driver needs, so that a driver
written in Python is its engine's handlers and tables and nothing else
(reports/driver-protocol.md). It does what the C++ kit
(harness/include/crashgate/driver_kit.h) does, the same way:

    driver = Driver("myengine")

    @driver.on("create")
    def create(args, ctx):
        ...
        return StepResult.ok()

    driver.values("truncate", "file", ["data"])
    driver.layout([LayoutFile("data", "data.bin", 64, "the data file", [...])])
    sys.exit(driver.main(sys.argv))

The kit reads cell.json and types every step's keys from the op table (OPS,
the same table as `crashgate ops --json`; a test holds them equal), writes the
events with one os.write each (step-start before the work), runs the steps on
one worker thread with the cell's worker stack, dispatches each step to its
op's handler, stops at the first step whose end its `expect` does not allow
(crashgate judges it again, the same way), answers `--list ops|layout|...`,
and evaluates offset expressions from the layout. Standard library only.
"""

from __future__ import annotations

import faulthandler
import fcntl
import json
import math
import os
import re
import shutil
import signal
import stat
import sys
import threading
import time
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Callable, Iterable, Optional

PROTOCOL = 1

# Driver exit statuses (driver_protocol.h says the same for the runner).
EXIT_ALL_STEPS_OK = 0
EXIT_STEP_FAILED = 1
EXIT_CANNOT_RUN = 2
# The kit itself failed (a bug of the kit, not of a step): the runner calls any
# other status "the driver misbehaved", which is what it is.
EXIT_KIT_FAILED = 70

U64_MAX = (1 << 64) - 1
NO_MAX = U64_MAX
MIB = 1024 * 1024

# One write(2) to a pipe of up to PIPE_BUF (4096) bytes stays whole.
EVENT_LINE_LIMIT = 4000
MESSAGE_LIMIT = 2000

# ---------------------------------------------------------------------------
# The op table (harness/contract/scenario_ops.cc, `crashgate ops --json`).

# Value types, named as `crashgate ops` names them.
U64 = "u64"
I64 = "i64"
REAL = "float"
BOOL = "bool"
STRING = "string"
PATH = "path"          # absolute in cell.json (crashgate resolves it where it runs)
DURATION = "duration"  # integer milliseconds in cell.json
SIZE = "size"          # integer bytes in cell.json
OFFSET = "offset"      # an offset expression (a string)
U64_LIST = "list of u64"
ENUM = "enum"
TABLE = "table"
FILL = "fill"          # "flip", a byte "0".."255", "u32le:N" or "u64le:N"
VALUE_TYPES = (U64, I64, REAL, BOOL, STRING, PATH, DURATION, SIZE, OFFSET, U64_LIST, ENUM, TABLE, FILL)


@dataclass(frozen=True)
class Key:
    """One key of an op: its type, whether it is required, its values (a fixed
    enum) or none (an enum whose values are the engine's: its driver lists
    them), and the range of a u64, a list's items, a size (bytes) or a
    duration (milliseconds)."""
    name: str
    type: str
    required: bool = False
    values: tuple = ()
    min: int = 0
    max: int = NO_MAX
    meaning: str = ""
    # Engine values only: what a driver that lists none takes.
    default_values: tuple = ()

    @property
    def engine_values(self) -> bool:
        return self.type == ENUM and not self.values

    def as_json(self) -> dict:
        """The key as `crashgate ops --json` prints it."""
        out = {"name": self.name, "type": self.type, "required": self.required, "meaning": self.meaning}
        if self.type == ENUM:
            if self.engine_values:
                out["engine_values"] = True
                if self.default_values:
                    out["default_values"] = list(self.default_values)
            else:
                out["values"] = list(self.values)
        if self.min != 0:
            out["min"] = self.min
        if self.max != NO_MAX:
            out["max"] = self.max
        return out


@dataclass(frozen=True)
class Op:
    name: str
    needs_store: bool  # the driver opens the store first (after reopen or damage closed it)
    summary: str
    keys: tuple

    def key(self, name: str) -> Optional[Key]:
        for k in self.keys:
            if k.name == name:
                return k
        return None

    def as_json(self) -> dict:
        """The op as `crashgate ops --json` prints it: its keys, then the common ones."""
        return {"op": self.name, "needs_store": self.needs_store, "summary": self.summary,
                "keys": [k.as_json() for k in self.keys + COMMON_KEYS]}


def _key(name, type_, required=False, values=(), min=0, max=NO_MAX, meaning="", default_values=()):  # noqa: A002 (the table's words)
    return Key(name, type_, required, tuple(values), min, max, meaning, tuple(default_values))


def _op(name, needs_store, summary, keys):
    return Op(name, needs_store, summary, tuple(keys))


# Keys every step may have besides its op's: a label and the step's own expected end.
COMMON_KEYS = (
    _key("name", STRING, meaning="a label"),
    _key("expect", STRING, meaning="the step's own end: ok, error or error:CODE, or alternatives joined by |"),
)

OPS = (
    _op("create", False, "create a store with `vectors` records of `dim` (hnsw = false: no index; m, ef_construction)", (
        _key("dim", U64, min=1, max=1 << 20, meaning="vector dimension (default 64)"),
        _key("vectors", U64, meaning="records added and synced at once (default 0)"),
        _key("metric", ENUM, meaning="distance metric (default the engine's first)"),
        _key("seed", U64, meaning="seed of the records' vectors (default the cell's)"),
        _key("store", STRING, meaning="the store's directory under the work directory"),
        _key("hnsw", BOOL, meaning="false: no index"),
        _key("m", U64, min=2, max=1024, meaning="HNSW links per node"),
        _key("ef_construction", U64, min=1, max=1 << 20, meaning="HNSW build beam width"),
        _key("variant", ENUM, meaning="how the engine is set up for the store, e.g. LMDB's writemap (MDB_WRITEMAP); default: default",
             default_values=("default",)),
    )),
    _op("import", False, "make a copy of `from`'s files the store, closed: the next store op opens it; the record model is empty", (
        _key("from", PATH, required=True, meaning="the directory whose regular files become the store (only read)"),
        _key("dim", U64, min=1, max=1 << 20, meaning="vector dimension, when the files do not say it"),
        _key("metric", ENUM, meaning="distance metric, when the files do not say it"),
        _key("store", STRING, meaning="the store's directory under the work directory"),
    )),
    _op("add", True, "add records (with metadata) to the store", (
        _key("vectors", U64, meaning="how many new records (default 100)"),
        _key("ids", U64_LIST, meaning="these ids instead"),
        _key("metadata", TABLE, meaning="attributes added to every record"),
        _key("seed", U64, meaning="seed of the vectors"),
    )),
    _op("search", True, "run `queries` k-NN searches, optionally filtered; every hit a live record, nearest first; recall measured", (
        _key("queries", U64, meaning="how many queries (default 10)"),
        _key("k", U64, min=1, max=1 << 20, meaning="neighbours per query (default 10)"),
        _key("ef", U64, min=1, max=1 << 20, meaning="search beam width"),
        _key("filter", STRING, meaning="keep only hits matching this filter"),
        _key("min_recall", REAL, max=1, meaning="the lowest recall@k allowed against the kit's exact search"),
    )),
    _op("remove", True, "remove records by id (or `count` random ones)", (
        _key("ids", U64_LIST, meaning="the ids to remove"),
        _key("count", U64, meaning="or this many random live records (default 1)"),
    )),
    _op("count", True, "count the records; `equals` checks the result", (
        _key("equals", U64, meaning="the count it must be"),
    )),
    _op("delete", True, "delete_where(filter); `clauses` copies OR-ed, or shaped: and, nested, not, in, not-in, and-or", (
        _key("filter", STRING, required=True, meaning="the filter; %i and %m number each clause"),
        _key("clauses", U64, min=1, meaning="copies of the filter joined, or the depth of a shape"),
        _key("shape", ENUM, values=("or", "and", "nested", "not", "in", "not-in", "and-or"), meaning="how the clauses are joined (default or)"),
        _key("field", STRING, meaning="the field of an `in` shape (default file_path)"),
    )),
    _op("compact", True, "compact the store (rewrites and remaps files)", ()),
    _op("sync", True, "flush everything to disk", ()),
    _op("reopen", False, "close and open the store again", ()),
    _op("get", True, "read the records with these ids (any error ends the step)", (
        _key("ids", U64_LIST, required=True, meaning="the ids to read"),
    )),
    _op("verify", True, "every record added and not removed is there and exact; nothing torn; count agrees", (
        _key("acknowledged", TABLE,
             meaning="after a crash: the records it must keep, may keep and must not bring back (crashgate crash-check sets it)"),
    )),
    _op("truncate", False, "truncate a store file to an offset expression", (
        _key("file", ENUM, required=True, meaning="which of the engine's files"),
        _key("to", OFFSET, required=True, meaning="the new length"),
        _key("while_open", BOOL, meaning="cut it while the store is open (an outside process)"),
    )),
    _op("corrupt", False, "overwrite `bytes` bytes of a store file at an offset expression", (
        _key("file", ENUM, required=True, meaning="which of the engine's files"),
        _key("at", OFFSET, required=True, meaning="where"),
        _key("bytes", U64, min=1, max=64 * MIB, meaning="how many bytes (default 1)"),
        _key("value", FILL, meaning="what is written (default flip)"),
        _key("while_open", BOOL, meaning="write while the store is open"),
        _key("rechecksum", BOOL, meaning="make the header's checksums agree again"),
    )),
    _op("replace", False, "replace a store file by something else (a directory, an empty file, a fifo, ...)", (
        _key("file", ENUM, required=True, meaning="which of the engine's files"),
        _key("with", ENUM, required=True, meaning="what takes its place"),
    )),
    _op("read", False, "open the store and read it one way (open, count, get, search, scan, fsck, ...)", (
        _key("what", ENUM, required=True, meaning="the way of reading"),
    )),
    _op("append-empty-slots", True, "grow the store by `slots` empty slots on a sparse file (a huge store, unwritten)", (
        _key("slots", U64, required=True, min=1, meaning="empty slots appended"),
    )),
    _op("fsck", False, "close the store and check every file; problems are a corrupt error", ()),
    _op("failpoints", False, "set failpoints (fail(9) syntax, e.g. name=1*error(ENOSPC))", (
        _key("spec", STRING, required=True, meaning="fail(9) syntax: name=1*error(ENOSPC)"),
    )),
    _op("spawn-workload", True, "start concurrent threads running `workload`", (
        _key("workload", ENUM, required=True, meaning="what the threads do"),
        _key("threads", U64, min=1, max=256, meaning="how many (default 2)"),
        _key("duration", DURATION, max=3_600_000, meaning="how long (default 500ms)"),
        _key("stack", SIZE, min=16 * 1024, max=1 << 30, meaning="each thread's stack (default the cell's worker stack)"),
    )),
    _op("second-process", False, "run `action` in a second process on the same store", (
        _key("action", ENUM, required=True, meaning="what the second process does"),
        _key("args", TABLE, meaning="the action's arguments"),
    )),
    _op("join", False, "wait for spawned workloads and second processes; an error if any failed", ()),
    _op("sleep", False, "sleep for `duration`", (
        _key("duration", DURATION, required=True, max=3_600_000, meaning="how long"),
    )),
)

_OPS_BY_NAME = {op.name: op for op in OPS}


def find_op(name: str) -> Optional[Op]:
    return _OPS_BY_NAME.get(name)


def ops_json() -> list:
    """The table as `crashgate ops --json` prints it, one object per op."""
    return [op.as_json() for op in OPS]


def op_key_names(op: Op) -> str:
    return ", ".join(k.name for k in op.keys + COMMON_KEYS)


def _key_spec(op: Op, name: str) -> Optional[Key]:
    spec = op.key(name)
    if spec is not None:
        return spec
    for common in COMMON_KEYS:
        if common.name == name:
            return common
    return None


# ---------------------------------------------------------------------------
# Text forms (harness/contract/limits_text.cc).

def _split_number(text: str):
    i = 0
    while i < len(text) and (text[i].isascii() and (text[i].isdigit() or text[i] == ".")):
        i += 1
    if i == 0:
        return None
    number_text = text[:i]
    if not re.fullmatch(r"[0-9]*\.?[0-9]*", number_text) or number_text == ".":
        return None
    try:
        number = float(number_text)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number, text[i:].lstrip(" ")


def parse_size(text: str) -> Optional[int]:
    """Bytes from "4096", "64KiB", "2MiB", "1G" (binary units); None if it is not a size."""
    split = _split_number(text)
    if split is None:
        return None
    number, suffix = split
    for names, factor in (("", "B", "b"), 1.0), (("K", "KiB", "KB"), 1024.0), (("M", "MiB", "MB"), 1024.0 ** 2), \
            (("G", "GiB", "GB"), 1024.0 ** 3), (("T", "TiB", "TB"), 1024.0 ** 4):
        if suffix in names:
            value = number * factor
            if value > 1.8e19 or value != math.floor(value):
                return None
            return int(value)
    return None


def parse_duration(text: str) -> Optional[int]:
    """Milliseconds from "100ms", "2s", "1m", "1h" (a bare number is seconds); None if it is not a duration."""
    split = _split_number(text)
    if split is None:
        return None
    number, suffix = split
    if suffix in ("", "s"):
        ms = number * 1000
    elif suffix == "ms":
        ms = number
    elif suffix in ("m", "min"):
        ms = number * 60_000
    elif suffix == "h":
        ms = number * 3_600_000
    else:
        return None
    if ms > 1e15:
        return None
    return int(math.ceil(ms))


def format_size(n: int) -> str:
    for factor, name in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {name}"
    return f"{n:,} bytes"


def format_duration(ms: int) -> str:
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


# ---------------------------------------------------------------------------
# Typed values (harness/contract/step_values.cc): one check per type, each
# naming the key, the value as written and what the type wants.

class InvalidValue(ValueError):
    """A value that is not of its key's type (the message says which and why)."""


def _shown(raw) -> str:
    return json.dumps(raw, separators=(",", ":"), ensure_ascii=False)


def _wrong(key: Key, raw, wanted: str) -> InvalidValue:
    return InvalidValue(f"'{key.name}' must be {wanted}, not {_shown(raw)}")


def _is_int(raw) -> bool:
    return isinstance(raw, int) and not isinstance(raw, bool)


def _digits(s: str) -> Optional[int]:
    if not re.fullmatch(r"[0-9]+", s):
        return None
    v = int(s)
    return v if v <= U64_MAX else None


def _as_u64(raw) -> Optional[int]:
    """An integer from a JSON integer or a {param}'s digits."""
    if _is_int(raw):
        return raw if 0 <= raw <= U64_MAX else None
    if isinstance(raw, str):
        return _digits(raw)
    return None


def _range_text(key: Key, show: Callable[[int], str]) -> str:
    if key.max == NO_MAX:
        return f"at least {show(key.min)}"
    return f"from {show(key.min)} to {show(key.max)}"


def _in_range(key: Key, raw, v: int, show: Callable[[int], str]) -> int:
    if v < key.min or v > key.max:
        raise InvalidValue(f"'{key.name}' = {_shown(raw)} is out of range ({_range_text(key, show)})")
    return v


_FLOAT_TEXT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|-?(?:inf|infinity|nan)", re.IGNORECASE)


def typed_value(key: Key, raw, engine_values: Optional[Iterable[str]] = None, form: str = "canonical"):
    """The value of `key` in its one canonical form (what cell.json carries), or
    InvalidValue. `engine_values`: for a key whose values are the engine's, the
    values the driver accepts (None: only the form is checked). `form`:
    "canonical" (cell.json: a duration may be its milliseconds) or "written"
    (as a person wrote it: a duration needs its unit)."""
    t = key.type
    if t == U64:
        v = _as_u64(raw)
        if v is None:
            raise _wrong(key, raw, "a whole number from 0 (u64)")
        return _in_range(key, raw, v, str)
    if t == I64:
        if _is_int(raw) and -(1 << 63) <= raw < (1 << 63):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"-?[0-9]+", raw) and -(1 << 63) <= int(raw) < (1 << 63):
            return int(raw)
        raise _wrong(key, raw, "a whole number (i64)")
    if t == REAL:
        # A finite number within the key's range (min and max read as numbers: 0 to 1 for a share).
        v = None
        if not isinstance(raw, bool) and (_is_int(raw) or isinstance(raw, float)):
            v = float(raw)
        elif isinstance(raw, str) and _FLOAT_TEXT.fullmatch(raw):
            v = float(raw)
        if v is None or not math.isfinite(v):
            raise _wrong(key, raw, "a finite number (float)")
        if v < key.min or (key.max != NO_MAX and v > key.max):
            raise InvalidValue(f"'{key.name}' = {_shown(raw)} is out of range ({_range_text(key, str)})")
        return v
    if t == BOOL:
        if isinstance(raw, bool):
            return raw
        if raw == "true":
            return True
        if raw == "false":
            return False
        raise _wrong(key, raw, "true or false")
    if t == STRING:
        if not isinstance(raw, str):
            raise _wrong(key, raw, "a string")
        return raw
    if t == PATH:
        # Its one form is absolute: the driver runs in the cell's work directory.
        if not isinstance(raw, str) or not raw:
            raise _wrong(key, raw, "a path (a non-empty string)")
        return os.path.normpath(os.path.abspath(raw))
    if t == DURATION:
        if form == "canonical" and _is_int(raw) and 0 <= raw <= U64_MAX:
            return _in_range(key, raw, raw, format_duration)
        # A unit is required: a bare number means seconds to some and milliseconds to others.
        wanted = 'a duration with its unit, such as "500ms" or "2s"'
        if not isinstance(raw, str):
            raise _wrong(key, raw, wanted)
        d = parse_duration(raw) if raw and raw[-1].isascii() and raw[-1].isalpha() else None
        if d is None:
            raise _wrong(key, raw, wanted)
        return _in_range(key, raw, d, format_duration)
    if t == SIZE:
        v = parse_size(raw) if isinstance(raw, str) else _as_u64(raw)
        if v is None:
            raise _wrong(key, raw, 'a size in bytes, such as 4096, "64KiB" or "2MiB"')
        return _in_range(key, raw, v, format_size)
    if t == OFFSET:
        if _is_int(raw) and 0 <= raw <= U64_MAX:
            text = str(raw)
        elif isinstance(raw, str):
            text = raw
        else:
            raise _wrong(key, raw, 'an offset expression such as "header-1" or "slot(17)+5"')
        try:
            parse_offset_expression(text)
        except OffsetError as e:
            raise InvalidValue(f"'{key.name}': {e}") from None
        return text
    if t == U64_LIST:
        if not isinstance(raw, list):
            raise _wrong(key, raw, "a list of whole numbers, such as [0, 7]")
        out = []
        for item in raw:
            v = _as_u64(item)
            if v is None:
                raise InvalidValue(f"'{key.name}' must hold only whole numbers from 0, not {_shown(item)}")
            if v < key.min or v > key.max:
                raise InvalidValue(f"'{key.name}' holds {_shown(item)}, out of range ({_range_text(key, str)})")
            out.append(v)
        return out
    if t == ENUM:
        if not isinstance(raw, str) or not raw:
            raise _wrong(key, raw, "one of the key's values (a string)")
        if not key.engine_values:
            if raw in key.values:
                return raw
            raise InvalidValue(f"'{key.name}' = {_shown(raw)} is not one of: {', '.join(key.values)}")
        if engine_values is None:
            return raw
        allowed = list(engine_values)
        if raw in allowed:
            return raw
        raise InvalidValue(f"'{key.name}' = {_shown(raw)} is not one the target accepts "
                           f"(it lists: {', '.join(allowed) if allowed else 'none'})")
    if t == TABLE:
        if not isinstance(raw, dict):
            raise _wrong(key, raw, 'a table, such as { duration = "1s" }')
        return raw
    if t == FILL:
        wanted = '"flip", a byte from 0 to 255, "u32le:N" or "u64le:N"'
        if raw == "flip":
            return raw
        byte = _as_u64(raw)
        if byte is not None:
            if byte > 255:
                raise _wrong(key, raw, wanted)
            return str(byte)
        if isinstance(raw, str) and (raw.startswith("u32le:") or raw.startswith("u64le:")):
            n = _digits(raw[6:])
            if n is not None and (raw.startswith("u64le:") or n <= 0xFFFFFFFF):
                return raw
        raise _wrong(key, raw, wanted)
    raise InvalidValue(f"'{key.name}': unknown type")


# ---------------------------------------------------------------------------
# Offset expressions: terms joined by + and -. A term is a number, a NAME
# (header, end, or a name the engine adds) or NAME(ARG) (slot(17), field(dim)).

class OffsetError(ValueError):
    """An offset expression that does not parse, or cannot be evaluated here."""


@dataclass
class OffsetTerm:
    sign: int = 1
    name: str = ""            # "" for a number
    arg: Optional[str] = None  # set for NAME(ARG)
    number: int = 0


_HELP = "terms such as 0, header, end, field(NAME), slot(N), joined by + and -"


def parse_offset_expression(text: str) -> list:
    s = "".join(c for c in text if c not in " \t\n\r\v\f")

    def bad(why: str) -> OffsetError:
        return OffsetError(f'offset expression "{text}": {why} ({_HELP})')

    if not s:
        raise bad("it is empty")
    terms = []
    pos = 0
    while pos < len(s):
        term = OffsetTerm()
        if s[pos] in "+-":
            term.sign = -1 if s[pos] == "-" else 1
            pos += 1
        elif terms:
            raise bad(f"expected + or - at '{s[pos:]}'")
        start = pos
        if pos < len(s) and "0" <= s[pos] <= "9":
            while pos < len(s) and "0" <= s[pos] <= "9":
                pos += 1
            n = _digits(s[start:pos])
            if n is None:
                raise bad(f"'{s[start:pos]}' is too large")
            term.number = n
            if pos < len(s) and s[pos] not in "+-":
                raise bad(f"'{s[start:]}' is not a number")
        elif pos < len(s) and (s[pos] == "_" or "a" <= s[pos] <= "z"):
            while pos < len(s) and (s[pos] == "_" or "a" <= s[pos] <= "z" or "0" <= s[pos] <= "9"):
                pos += 1
            term.name = s[start:pos]
            if pos < len(s) and s[pos] == "(":
                close = s.find(")", pos)
                if close < 0:
                    raise bad(f"'(' after {term.name} is not closed")
                arg = s[pos + 1:close]
                if not arg or not all((c.isascii() and c.isalnum()) or c in "_." for c in arg):
                    raise bad(f"{term.name}({arg}) needs a number or a name in its parentheses")
                term.arg = arg
                pos = close + 1
            if pos < len(s) and s[pos] not in "+-":
                raise bad(f"unexpected '{s[pos:]}'")
        else:
            raise bad(f"unexpected '{s[pos:]}'" if pos < len(s) else "it ends with an operator")
        terms.append(term)
    return terms


def evaluate_offset_expression(text: str, resolve: Callable[[OffsetTerm], int]) -> int:
    """The expression's value, asking `resolve` for each named term (it raises OffsetError when it cannot)."""
    total = 0
    for term in parse_offset_expression(text):
        v = term.number
        if term.name:
            try:
                v = resolve(term)
            except OffsetError as e:
                raise OffsetError(f'offset expression "{text}": {e}') from None
        total += term.sign * v
    if total < 0:
        raise OffsetError(f'offset expression "{text}" is negative here')
    if total > U64_MAX:
        raise OffsetError(f'offset expression "{text}" is past 2^64')
    return total


# ---------------------------------------------------------------------------
# Engine file layouts.

@dataclass
class LayoutField:
    """One field of an engine file's header."""
    name: str
    offset: int
    width: int  # bytes
    meaning: str = ""


@dataclass
class LayoutFile:
    """One kind of file the engine writes. `slot(N)` is slot_base + N * slot
    size, the slot size read (little-endian) from the file's
    `slot_size_field`, or `slot_size` when no field holds it."""
    file: str                 # the name scenarios use: file = "index"
    pattern: str              # its name on disk: "index.bin"
    header_size: int = 0
    meaning: str = ""
    fields: list = dataclass_field(default_factory=list)
    slot_base: int = 0
    slot_size: int = 0
    slot_size_field: str = ""

    def field(self, name: str) -> Optional[LayoutField]:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def as_json(self) -> dict:
        """The `--list layout` line."""
        line = {"file": self.file, "pattern": self.pattern, "header_size": self.header_size, "meaning": self.meaning,
                "fields": [{"name": f.name, "offset": f.offset, "width": f.width, "meaning": f.meaning} for f in self.fields]}
        if self.slot_size or self.slot_size_field:
            line["slot_base"] = self.slot_base
            if self.slot_size:
                line["slot_size"] = self.slot_size
            if self.slot_size_field:
                line["slot_size_field"] = self.slot_size_field
        return line


def _layout_file(value) -> LayoutFile:
    if isinstance(value, LayoutFile):
        return value
    if isinstance(value, dict):
        d = dict(value)
        d["fields"] = [f if isinstance(f, LayoutField) else LayoutField(**f) for f in d.get("fields", [])]
        return LayoutFile(**d)
    raise TypeError(f"a layout file must be a LayoutFile or a dict, not {type(value).__name__}")


def _read_le(path: str, offset: int, width: int) -> int:
    if width == 0 or width > 8:
        raise OffsetError(f"a field of {width} bytes cannot hold a size")
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(width)
    except OSError:
        raise OffsetError(f"cannot open {path}") from None
    if len(data) != width:
        raise OffsetError(f"{path} is too short to hold its {width}-byte field at {offset}")
    return int.from_bytes(data, "little")


# The engine's own terms: extra(name, arg) -> int, or None when it is not one of them.
ExtraTerm = Callable[[str, Optional[str]], Optional[int]]


def evaluate_offset(file: LayoutFile, path: str, expr: str, extra: Optional[ExtraTerm] = None) -> int:
    """Evaluates an offset expression against one file on disk: numbers,
    header, end (the file's size), field(NAME), slot(N), and any name `extra`
    resolves (asked first; None: not one of its own; it may raise OffsetError);
    terms joined by + and -. Raises OffsetError."""

    def resolve(term: OffsetTerm) -> int:
        if extra is not None:
            v = extra(term.name, term.arg)
            if v is not None:
                return v
        if term.name == "header" and term.arg is None:
            return file.header_size
        if term.name == "end" and term.arg is None:
            try:
                return os.stat(path).st_size
            except OSError:
                raise OffsetError(f"cannot stat {path}") from None
        if term.name == "field" and term.arg is not None:
            f = file.field(term.arg)
            if f is not None:
                return f.offset
            names = ", ".join(x.name for x in file.fields)
            raise OffsetError(f"{file.file} has no header field '{term.arg}' (it has: {names or 'none'})")
        if term.name == "slot" and term.arg is not None:
            n = _digits(term.arg)
            if n is None:
                raise OffsetError(f"slot({term.arg}) needs a whole number")
            slot_size = file.slot_size
            if file.slot_size_field:
                f = file.field(file.slot_size_field)
                if f is None:
                    raise OffsetError(f"{file.file}'s layout names slot size field '{file.slot_size_field}', which it lacks")
                slot_size = _read_le(path, f.offset, f.width)
            if slot_size == 0:
                raise OffsetError(f"{file.file} has no slots (its slot size is 0)")
            return file.slot_base + n * slot_size
        shown = term.name + (f"({term.arg})" if term.arg is not None else "")
        raise OffsetError(f"unknown term '{shown}' for {file.file} (header, end, field(NAME), slot(N)"
                          f"{', or the engine' + chr(39) + 's own' if extra is not None else ''})")

    return evaluate_offset_expression(expr, resolve)


# ---------------------------------------------------------------------------
# The records every driver adds, and the model verify checks against
# (crashgate/driver_records.h: the same values, bit for bit).

def file_path_for(record_id: int) -> str:
    return f"src/mcp_vector_search/module_{record_id // 1000:06}/file_{record_id:08}.py"


def record_values(record_id: int, dim: int, seed: int) -> list:
    """The vector a driver adds for `record_id`, as integers in -1000..1000:
    the value is that over 1000 as a float32. Past 1,024 dimensions the first
    1,024 values repeat. (An engine reached through numpy can compute the same
    for many ids at once; a test holds it to this.)"""
    x = (((record_id + 1) * 0x9E3779B97F4A7C15) & U64_MAX) ^ seed
    out = []
    for i in range(dim):
        if i >= 1024:
            out.append(out[i % 1024])
            continue
        x ^= x >> 31
        x = (x * 0xBF58476D1CE4E5B9) & U64_MAX
        x ^= x >> 29
        out.append(x % 2001 - 1000)
    return out


def record_vector(record_id: int, dim: int, seed: int) -> list:
    """record_values as float32 values (Python floats holding exactly them)."""
    import struct  # noqa: PLC0415
    thousandths = record_values(record_id, dim, seed)
    # v / 1000 rounded once to float32, as float(v) / 1000.0f is in C++: for
    # these 2,001 values rounding the double quotient gives the same float.
    return [struct.unpack("f", struct.pack("f", v / 1000.0))[0] for v in thousandths]


# ---------------------------------------------------------------------------
# The record model as crash-check reads it (record_model.h says the same for C++):
# runs of consecutive ids, so a store of a million records is a few numbers.

RUN_LIMIT = 100_000_000  # ids a run may hold: no cell builds a store that big, and a typo must not eat the machine


def _seeded_runs(ids: dict) -> list:
    out = []
    for i in sorted(ids):
        seed = ids[i]
        if out and out[-1][1] + 1 == i and out[-1][2] == seed:
            out[-1][1] = i
        else:
            out.append([i, i, seed])
    return out


def _plain_runs(ids: Iterable[int]) -> list:
    out = []
    for i in sorted(ids):
        if out and out[-1][1] + 1 == i:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def model_to_json(dim: int, live: dict, removed: Iterable[int], metric: str = "") -> dict:
    """{"dim", "metric", "live": [[first, last, seed], ...], "removed": [[first, last], ...]}"""
    out = {"dim": dim, "live": _seeded_runs(live), "removed": _plain_runs(removed)}
    if metric:
        out["metric"] = metric
    return out


def _is_u64(v) -> bool:
    return _is_int(v) and 0 <= v <= U64_MAX


def _read_runs(j: dict, key: str, seeded: bool) -> dict:
    """id -> seed (0 when not seeded) of the runs under `key`; ValueError names the run that is wrong."""
    out = {}
    runs = j.get(key, [])
    if not isinstance(runs, list):
        raise ValueError(f"{key}: not a list of runs")
    want = 3 if seeded else 2
    for n, r in enumerate(runs):
        if not (isinstance(r, list) and len(r) == want and all(_is_u64(v) for v in r)):
            raise ValueError(f"{key}[{n}]: {_dump(r)} is not [first, last{', seed' if seeded else ''}] of unsigned numbers")
        first, last = r[0], r[1]
        if last < first or last - first >= RUN_LIMIT:
            raise ValueError(f"{key}[{n}]: {first} .. {last} is not a run of ids")
        seed = r[2] if seeded else 0
        for i in range(first, last + 1):
            out[i] = seed
    return out


@dataclass
class CrashExpectation:
    """What recovery must find after a crash (the `acknowledged` table verify
    takes): `must` there and exact, `maybe` there or not but exact when there,
    `gone` never back. Ids map to the seed of their vector."""
    dim: int = 0
    metric: str = ""
    acknowledged: bool = False
    must: dict = dataclass_field(default_factory=dict)
    maybe: dict = dataclass_field(default_factory=dict)
    gone: set = dataclass_field(default_factory=set)


def expectation_from_json(j) -> CrashExpectation:
    """The `acknowledged` table; ValueError names the key that is wrong."""
    if not isinstance(j, dict):
        raise ValueError("not a JSON object")
    e = CrashExpectation()
    if "dim" in j:
        if not _is_int(j["dim"]) or not 0 <= j["dim"] <= 1 << 20:
            raise ValueError(f"dim: {_dump(j['dim'])} is not a dimension")
        e.dim = j["dim"]
    if "metric" in j:
        if not isinstance(j["metric"], str):
            raise ValueError(f"metric: {_dump(j['metric'])} is not a string")
        e.metric = j["metric"]
    if "acknowledged" in j:
        if not isinstance(j["acknowledged"], bool):
            raise ValueError("acknowledged: not true or false")
        e.acknowledged = j["acknowledged"]
    e.must = _read_runs(j, "must", True)
    e.maybe = _read_runs(j, "maybe", True)
    e.gone = set(_read_runs(j, "gone", False))
    for i in e.must:
        if i in e.maybe or i in e.gone:
            raise ValueError(f"id {i} is in must and in maybe or gone")
    for i in e.gone:
        if i in e.maybe:
            raise ValueError(f"id {i} is in gone and in maybe")
    return e


class Records:
    """The model of what must be in the store: the ids added and not removed
    since it was created, each with the seed its vector came from, and the ids
    removed; after a crash (`expect`), also the ids written since the last
    acknowledged sync, which may or may not have survived. Safe to use from
    several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.dim = 0
        self._live = {}        # id -> the seed of its vector
        self._removed = set()
        self._next_id = 0
        self._known = True
        self._unsure = False
        self._maybe = {}       # after a crash: id -> seed of a record that may have survived
        self._after_crash = False

    def reset(self, dim: int) -> None:
        with self._lock:
            self.dim, self._live, self._removed, self._next_id, self._known = dim, {}, set(), 0, True
            self._unsure, self._maybe, self._after_crash = False, {}, False

    def unsure(self) -> None:
        """From here on the model may not match the store record for record
        (outside damage, a replaced file, a second process, a workload): the
        oracles that compare answers exactly stand aside until the next reset."""
        with self._lock:
            self._unsure = True

    def exact(self) -> bool:
        """Known, and not unsure since the store was created: answers are checked exactly."""
        with self._lock:
            return self._known and not self._unsure

    def imported(self, dim: int) -> None:
        """A store of this dimension was imported (the `import` op): its records
        are unknown, so until it is created again the model checks only what
        was added since."""
        with self._lock:
            self.dim, self._live, self._removed, self._next_id, self._known = dim, {}, set(), 0, False
            self._unsure, self._maybe, self._after_crash = False, {}, False

    def model(self, metric: str = "") -> dict:
        """The model as a `records` event carries it (model_to_json); `metric` is the driver's."""
        with self._lock:
            return model_to_json(self.dim, self._live, self._removed, metric)

    def expect(self, acknowledged) -> None:
        """After a crash: the model becomes what verify's `acknowledged` table
        says recovery must find (crashgate crash-check works it out from the
        records events of the recorded run). A malformed table, or one of
        another dimension than the store's, is an invalid-argument StepError."""
        try:
            e = expectation_from_json(acknowledged)
        except ValueError as err:
            raise StepError("invalid-argument", f"verify: acknowledged: {err}") from None
        with self._lock:
            if e.dim and self.dim and e.dim != self.dim:
                raise StepError("invalid-argument",
                                f"verify: acknowledged records of dimension {e.dim}, but the store's is {self.dim}")
            if e.dim:
                self.dim = e.dim
            self._live, self._maybe, self._removed = dict(e.must), dict(e.maybe), set(e.gone)
            self._next_id = max([0] + [i + 1 for i in list(self._live) + list(self._maybe)])
            self._known, self._unsure, self._after_crash = True, True, True  # the maybe records leave answers open

    def maybe(self) -> dict:
        """id -> seed of the records that may or may not have survived the crash (empty before one)."""
        with self._lock:
            return dict(sorted(self._maybe.items()))

    def after_crash(self) -> bool:
        with self._lock:
            return self._after_crash

    def known(self) -> bool:
        """False after an import: the store may hold records the model never saw."""
        with self._lock:
            return self._known

    def may_hold(self, record_id: int) -> bool:
        """holds(id), or True when the model does not know the store's records (after an import)."""
        with self._lock:
            return not self._known or record_id in self._live

    def added(self, ids: Iterable[int], seed: int) -> None:
        with self._lock:
            for i in ids:
                self._live[i] = seed
                self._removed.discard(i)
                self._next_id = max(self._next_id, i + 1)

    def removed(self, ids: Iterable[int]) -> None:
        with self._lock:
            for i in ids:
                if self._live.pop(i, None) is not None:
                    self._removed.add(i)

    def next_id(self) -> int:
        with self._lock:
            return self._next_id

    def live(self) -> dict:
        """id -> seed of every live record, sorted by id."""
        with self._lock:
            return dict(sorted(self._live.items()))

    def removed_ids(self) -> list:
        with self._lock:
            return sorted(self._removed)

    def holds(self, record_id: int) -> bool:
        with self._lock:
            return record_id in self._live

    def __len__(self) -> int:
        with self._lock:
            return len(self._live)

    def sample(self, every: int) -> list:
        with self._lock:
            return [i for n, i in enumerate(sorted(self._live)) if n % max(every, 1) == 0]

    def verify(self, lookup: Callable[[int], Optional[list]], count: Optional[int] = None) -> None:
        """Every live record is there and exact (its vector bit for bit), every
        removed one is gone, and `count`, when the engine has one and the model
        knows the whole store (not after an import), agrees. After a crash
        (`expect`), a record written since the last acknowledged sync may be
        missing but is exact when there, and `count` takes it in.
        `lookup(id)` returns the stored vector (floats) or None when the store
        does not have it; an engine error is its own StepError. The first
        difference raises a wrong-result StepError naming the id."""
        live, removed, known, maybe, after_crash = self.live(), self.removed_ids(), self.known(), self.maybe(), self.after_crash()

        def differs(i: int, got: list, seed: int) -> Optional[str]:
            want = record_vector(i, self.dim, seed)
            if len(got) != len(want):
                return f"{len(got)} values, not {len(want)}"
            at = next((n for n, (g, w) in enumerate(zip(got, want)) if g != w), None)
            return None if at is None else f"value {at} is {got[at]}, not {want[at]}"

        maybe_there = 0
        for i, seed in maybe.items():
            got = lookup(i)
            if got is None:
                continue
            maybe_there += 1
            wrong = differs(i, got, seed)
            if wrong:
                raise StepError("wrong-result", f"verify: id {i} (written since the last acknowledged sync) is there but torn: {wrong}")
        for i, seed in live.items():
            got = lookup(i)
            if got is None:
                raise StepError("wrong-result", f"verify: id {i} was acknowledged durable before the crash, and is missing"
                                if after_crash else f"verify: id {i} was added and not removed, and is missing")
            want = record_vector(i, self.dim, seed)
            if len(got) != len(want):
                raise StepError("wrong-result", f"verify: id {i} has {len(got)} values, not {len(want)}")
            for at, (g, w) in enumerate(zip(got, want)):
                if g != w:
                    raise StepError("wrong-result", f"verify: id {i} differs at value {at}: {g} instead of {w}")
        for i in removed:
            if lookup(i) is not None:
                raise StepError("wrong-result", f"verify: id {i} was removed durably before the crash, and is back"
                                if after_crash else f"verify: id {i} was removed and is still there")
        if count is not None and known and count != len(live) + maybe_there:
            raise StepError("wrong-result",
                            f"verify: the store counts {count} records; {len(live)} were added and not removed" if not maybe else
                            f"verify: the store counts {count} records; it holds {len(live)} acknowledged and {maybe_there} "
                            "of those written since, and nothing else may be there")


# ---------------------------------------------------------------------------
# How a step ended, and how crashgate judges that against its `expect`.

@dataclass
class StepResult:
    """How a step ended: what happened, not whether it was expected."""
    is_ok: bool = True
    code: str = ""     # the engine's error code: corrupt, io, busy, invalid-argument, ...; wrong-result
    message: str = ""
    # A second process died of this signal: the driver exits 128 + it without
    # ending the step, so the runner explains the crash it traced there.
    descendant_signal: int = 0
    # What the step measured (an oracle's recall, ...): sent in step-end, kept in results.json.
    measured: dict = dataclass_field(default_factory=dict)

    @staticmethod
    def ok() -> "StepResult":
        return StepResult()

    @staticmethod
    def error(code: str, message: str) -> "StepResult":
        return StepResult(False, code, message)

    @staticmethod
    def descendant(signal_number: int, message: str) -> "StepResult":
        return StepResult(False, "", message, signal_number)


class StepError(Exception):
    """Raised by a handler: the step ends with this error code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

# ---------------------------------------------------------------------------
# The search oracle (crashgate/search_oracle.h): recall@k against the kit's own
# exact search, distances in double precision, never the engine's kernel.

METRIC_NAMES = {"l2": "l2", "ip": "ip", "inner_product": "ip", "cosine": "cosine"}


def reference_distance(metric: str, a, b) -> float:
    """Smaller is nearer: squared L2; minus the dot product; 1 - cosine
    similarity (1 when either vector is all zeros)."""
    if metric == "l2":
        return math.fsum((float(x) - float(y)) ** 2 for x, y in zip(a, b))
    dot = math.fsum(float(x) * float(y) for x, y in zip(a, b))
    if metric == "ip":
        return -dot
    if metric == "cosine":
        na = math.sqrt(math.fsum(float(x) * float(x) for x in a))
        nb = math.sqrt(math.fsum(float(y) * float(y) for y in b))
        return 1.0 if na == 0 or nb == 0 else 1.0 - dot / (na * nb)
    raise ValueError(f"no reference distance for metric '{metric}' (l2, ip, cosine)")


def oracle_affordable(records: int, dim: int, queries: int) -> bool:
    """Whether the exact search is cheap enough for a cell in Python (about 3e7 multiply-adds)."""
    return records * dim * queries <= 3e7


def oracle_queries(records: list, dim: int, n: int, rng) -> list:
    """n queries as (vector, self_id): even ones uniform in [-1, 1]^dim, odd
    ones a live record's own vector. `records`: (id, vector) pairs; rng: random.Random."""
    out = []
    for i in range(n):
        if i % 2 == 1 and records:
            rid, vector = records[rng.randrange(len(records))]
            out.append((list(vector), rid))
        else:
            out.append(([rng.uniform(-1.0, 1.0) for _ in range(dim)], None))
    return out


@dataclass
class RecallMeasure:
    metric: str = "l2"
    k: int = 0
    queries: int = 0
    expected: int = 0       # sum over the queries of min(k, live records)
    found: int = 0          # of those, how many the engine returned (ties counted)
    self_queries: int = 0   # self-queries asked (l2 and cosine only)
    self_found: int = 0
    worst_query: int = 0
    worst_recall: float = 1.0
    worst_missed: Optional[int] = None
    self_missed: Optional[int] = None

    def recall(self) -> float:
        return 1.0 if self.expected == 0 else self.found / self.expected

    def figures(self) -> dict:
        f = {"recall": self.recall(), "k": float(self.k), "queries": float(self.queries)}
        if self.self_queries:
            f["self_queries"] = float(self.self_queries)
            f["self_found"] = float(self.self_found)
        return f


def measure_recall(metric: str, records: list, queries: list, hits: list, k: int) -> RecallMeasure:
    """recall@k of what the engine returned (hits[i]: ids for queries[i],
    nearest first; the first k distinct count) against the exact k nearest.
    A hit as near as the k-th (within a relative 1e-4) counts as found."""
    m = RecallMeasure(metric=metric, k=k, queries=len(queries))
    vectors = dict(records)
    for qi, (q, self_id) in enumerate(queries):
        exact = sorted((reference_distance(metric, q, v), rid) for rid, v in records)
        want = min(k, len(exact))
        kth = exact[want - 1][0] if want else 0.0
        limit = kth + 1e-4 * max(1.0, abs(kth))
        seen = []
        for rid in (hits[qi] if qi < len(hits) else []):
            if len(seen) >= k:
                break
            if rid not in seen:
                seen.append(rid)
        found = sum(1 for rid in seen if rid in vectors and reference_distance(metric, q, vectors[rid]) <= limit)
        found = min(found, want)
        m.expected += want
        m.found += found
        recall = found / want if want else 1.0
        if recall < m.worst_recall:
            m.worst_recall, m.worst_query = recall, qi
            m.worst_missed = next((rid for _, rid in exact[:want] if rid not in seen), None)
        if self_id is not None and metric != "ip" and self_id in vectors:
            m.self_queries += 1
            if self_id in seen:
                m.self_found += 1
            elif m.self_missed is None:
                m.self_missed = self_id
    return m


def judge_recall(m: RecallMeasure, min_recall: Optional[float]) -> StepResult:
    """A wrong-result error when recall is below min_recall (None: not judged)
    or, with a floor set, when a self-query did not return its record."""
    if min_recall is None:
        return StepResult.ok()
    if m.recall() < min_recall:
        missed = f", missing id {m.worst_missed} of the exact {m.k} nearest" if m.worst_missed is not None else ""
        return StepResult.error(
            "wrong-result",
            f"search recall@{m.k} is {m.recall():.4f} over {m.queries} queries ({m.found} of {m.expected} exact neighbours "
            f"returned, {m.metric} distance), below min_recall {min_recall:g}; the worst was query {m.worst_query} at "
            f"{m.worst_recall:.2f}{missed}")
    if m.self_missed is not None:
        return StepResult.error(
            "wrong-result",
            f"a search for record {m.self_missed}'s own vector did not return it ({m.self_found} of {m.self_queries} "
            f"self-queries returned their record, {m.metric} distance)")
    return StepResult.ok()


def oracle_searches(metric: Optional[str], model_exact: bool, live: int, dim: int, queries: int, k: int,
                    min_recall: Optional[float], records: Callable[[], list], rng, search: Callable[[list], list],
                    ctx: "Context") -> StepResult:
    """Runs `queries` searches: `search(vectors)` returns each query's ids,
    nearest first (raising StepError on what it checks itself). With the model
    exact, a known metric and an affordable exact search, the queries are
    oracle_queries over `records()` ((id, vector) pairs) and recall@k is
    measured into the result and judged against min_recall; otherwise the
    queries are uniform and a min_recall is an invalid-argument error."""
    oracle = metric in ("l2", "ip", "cosine") and model_exact and oracle_affordable(live, dim, queries)
    if min_recall is not None and not oracle:
        if metric not in ("l2", "ip", "cosine"):
            why = "the oracle has no exact search for this engine's metric"
        elif not model_exact:
            why = ("needs a store the model knows record for record (created in this cell; no import, outside damage, "
                   "replaced file, second process or workload since)")
        else:
            why = f"an exact search of {queries} queries over {live} records of {dim} dimensions is too large for a cell"
        return StepResult.error("invalid-argument", f"search: min_recall {why}")
    known = records() if oracle else []
    asked = oracle_queries(known, dim, queries, rng) if oracle else \
        [([rng.uniform(-1.0, 1.0) for _ in range(dim)], None) for _ in range(queries)]
    returned = search([q for q, _ in asked])
    if not oracle:
        return StepResult.ok()
    m = measure_recall(metric, known, asked, returned, k)
    ctx.log(f"recall@{m.k} {m.recall():.4f} ({m.found} of {m.expected} exact neighbours, {m.metric} distance); "
            f"self-queries {m.self_found} of {m.self_queries}")
    judged = judge_recall(m, min_recall)
    judged.measured = m.figures()
    return judged



# ---------------------------------------------------------------------------
# The `import` op's engine-independent half (store_import.h in the C++ kit): a
# directory of an engine's files becomes the cell's store. The driver then
# sets what its `create` sets from the files, leaves the store closed, and its
# next store op opens it as it opens one it made: damage shows in that step.

def sync_to_disk(path: str) -> None:
    """An application's half of a durable save: fsync the file, then its
    directory (so a new name lasts too). An engine that never fsyncs (hnswlib's
    saveIndex, FAISS's write_index) needs this after each save meant to last;
    a failure is an io StepError naming the path."""
    directory = os.path.dirname(path) or "."
    for target, flags in ((path, os.O_RDONLY), (directory, os.O_RDONLY | os.O_DIRECTORY)):
        try:
            fd = os.open(target, flags | os.O_CLOEXEC)
        except OSError as e:
            raise StepError("io", f"open {target} to fsync it: {e.strerror}") from None
        try:
            os.fsync(fd)
        except OSError as e:
            raise StepError("io", f"fsync {target}: {e.strerror}") from None
        finally:
            os.close(fd)


def import_store_files(from_dir: str, store_dir: str) -> None:
    """Copies every regular file of `from_dir` (symlinks to regular files
    followed; subdirectories, fifos and devices left out) into `store_dir`,
    emptied first (made when missing). `from_dir` is opened read-only and
    never written. Raises StepError: not-found / invalid-argument naming
    `from_dir` when it is missing or not a directory, invalid-argument when it
    is the store directory or lies in it (emptying the store would change
    it), io when a file cannot be copied."""
    try:
        st = os.stat(from_dir)
    except FileNotFoundError:
        raise StepError("not-found", f"import: from = {from_dir}: No such file or directory") from None
    except NotADirectoryError:
        raise StepError("not-found", f"import: from = {from_dir}: Not a directory") from None
    except OSError as e:
        raise StepError("io", f"import: from = {from_dir}: {e.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise StepError("invalid-argument", f"import: from = {from_dir} is not a directory")
    # The store is emptied: `from_dir` must not be it or lie in it. (The store may
    # lie in `from_dir`, a work directory under the field's: only regular files are copied.)
    inner, outer = os.path.realpath(from_dir), os.path.realpath(store_dir)
    if os.path.commonpath([inner, outer]) == outer:
        raise StepError("invalid-argument",
                        f"import: from = {from_dir} lies in the store's directory {store_dir}, which the import empties")
    try:
        # What was in the store goes: the store is the files imported, and only them.
        if os.path.isdir(store_dir) and not os.path.islink(store_dir):
            shutil.rmtree(store_dir)
        elif os.path.lexists(store_dir):
            os.unlink(store_dir)
        os.makedirs(store_dir)
        for name in sorted(os.listdir(from_dir)):
            source = os.path.join(from_dir, name)
            if not os.path.isfile(source):  # follows symlinks; a fifo would block the open
                continue
            with open(source, "rb") as src, open(os.path.join(store_dir, name), "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    except OSError as e:
        raise StepError("io", f"import: {e.filename or from_dir}: {e.strerror}") from None


def read_field(file: "LayoutFile", path: str, field_name: str) -> Optional[int]:
    """The little-endian value of one layout field of a file on disk, or None
    when the layout has no such field or the file is too short to hold it."""
    f = file.field(field_name)
    if f is None:
        return None
    try:
        return _read_le(path, f.offset, f.width)
    except OffsetError:
        return None


def settle_import_key(args, key: str, in_files, where: str, fallback):
    """The value an import takes for a key that `create` takes (dim, metric):
    what the files say (`in_files`, at `where`), or the step's key when the
    files cannot say (None: a file too short or missing, the open judges it),
    or `fallback`. A step's key that disagrees with the files raises an
    invalid-argument StepError naming both."""
    given = args.values.get(key) if args.has(key) else None
    if in_files is None:
        return fallback if given is None else given
    if given is not None and given != in_files:
        raise StepError("invalid-argument", f"import: {key} = {given}, but {where} says {in_files}")
    return in_files


class DriverBug(Exception):
    """A driver's own mistake: a key its op does not declare, or read as another type."""


class CellError(Exception):
    """cell.json cannot be run (exit 2)."""


@dataclass
class Judgement:
    ok: bool = True
    code: str = ""
    message: str = ""
    note: str = ""  # "ended as expected: corrupt: ..." when an expected error came


def judge_step(expect: str, ok: bool, code: str, message: str) -> Judgement:
    """How one step ended, judged against its `expect` ("", "ok", "error",
    "error:CODE", or alternatives joined by "|") exactly as crashgate's judge_step does: without an expect the
    step must end ok; a met expectation of an error makes the step ok (with a
    note); an unmet one is an error with code wrong-result."""
    reported = "ok" if ok else f"{code}{': ' if message else ''}{message}"
    if not expect:
        return Judgement(True) if ok else Judgement(False, code, message)
    met = False
    for alternative in expect.split("|"):
        if alternative == "ok":
            met = met or ok
        elif alternative == "error":
            met = met or not ok
        else:
            met = met or (not ok and alternative.startswith("error:") and code == alternative[6:])
    if met:
        return Judgement(True, note="" if ok else f"ended as expected: {reported}")
    return Judgement(False, "wrong-result", f"step expected {expect}, got {reported}")


# ---------------------------------------------------------------------------
# One step's keys, typed.

class Args:
    """One step's keys, typed. Values were checked against the op table when
    the cell was read: an accessor's fallback applies only to a key the step
    does not have, never to a value of the wrong form. Asking for a key the op
    does not declare, or as another type, raises DriverBug."""

    def __init__(self, op: Op, index: int, values: dict):
        self._op = op
        self._index = index
        self._values = values

    @property
    def op(self) -> Op:
        return self._op

    @property
    def index(self) -> int:
        return self._index

    @property
    def values(self) -> dict:
        return dict(self._values)

    def has(self, key: str) -> bool:
        return key in self._values

    def _typed(self, key: str, *types: str):
        spec = _key_spec(self._op, key)
        if spec is None:
            raise DriverBug(f"op '{self._op.name}' has no key '{key}' (crashgate ops)")
        if spec.type not in types:
            raise DriverBug(f"{self._op.name}.{key} is a {spec.type}, read as another type")
        return self._values.get(key)

    def u64(self, key: str, fallback: Optional[int] = None) -> Optional[int]:
        v = self._typed(key, U64)
        return fallback if v is None else v

    def i64(self, key: str, fallback: Optional[int] = None) -> Optional[int]:
        v = self._typed(key, I64)
        return fallback if v is None else v

    def real(self, key: str, fallback: Optional[float] = None) -> Optional[float]:
        v = self._typed(key, REAL)
        return fallback if v is None else v

    def boolean(self, key: str, fallback: Optional[bool] = None) -> Optional[bool]:
        v = self._typed(key, BOOL)
        return fallback if v is None else v

    def string(self, key: str, fallback: str = "") -> str:
        """A string, path, enum, offset or fill key."""
        v = self._typed(key, STRING, PATH, ENUM, OFFSET, FILL)
        return fallback if v is None else v

    def duration_ms(self, key: str, fallback: Optional[int] = None) -> Optional[int]:
        v = self._typed(key, DURATION)
        return fallback if v is None else v

    def size(self, key: str, fallback: Optional[int] = None) -> Optional[int]:
        v = self._typed(key, SIZE)
        return fallback if v is None else v

    def u64_list(self, key: str) -> list:
        """The list; empty when absent."""
        v = self._typed(key, U64_LIST)
        return [] if v is None else list(v)

    def table(self, key: str) -> dict:
        """The table; an empty one when absent."""
        v = self._typed(key, TABLE)
        return {} if v is None else json.loads(json.dumps(v))

    def __repr__(self) -> str:
        return f"Args(step {self._index}, {self._op.name}, {self._values!r})"


def read_steps(cell: dict) -> list:
    """cell.json's steps as Args: every key checked against its type. Raises
    CellError naming the step and the key."""
    steps = cell.get("steps") if isinstance(cell, dict) else None
    if not isinstance(steps, list):
        raise CellError('cell.json has no "steps" array')
    out = []
    for position, step in enumerate(steps):
        if not isinstance(step, dict):
            raise CellError(f"step {position}: not an object")
        index = step["index"] if _is_int(step.get("index")) else position
        name = step.get("op")
        if not isinstance(name, str):
            raise CellError(f'step {index}: no "op"')
        op = find_op(name)
        if op is None:
            raise CellError(f"step {index}: unknown op '{name}' (crashgate ops lists them)")
        values = {}
        for key, raw in step.items():
            if key in ("op", "index"):
                continue
            spec = _key_spec(op, key)
            if spec is None:
                raise CellError(f"step {index} ({name}): unknown key '{key}' (expected: {op_key_names(op)})")
            try:
                values[key] = typed_value(spec, raw, None, "canonical")
            except InvalidValue as e:
                raise CellError(f"step {index} ({name}): {e}") from None
        for key in op.keys:
            if key.required and key.name not in values:
                raise CellError(f"step {index} ({name}): missing required key '{key.name}'")
        out.append(Args(op, index, values))
    return out


# ---------------------------------------------------------------------------
# Events (fd 3, CRASHGATE_EVENT_FD), each one os.write of a whole line.

def _dump(obj) -> str:
    # As the C++ kit's nlohmann dump: compact, keys sorted, UTF-8.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


class Events:
    def __init__(self, fd: Optional[int] = None):
        if fd is None:
            env = os.environ.get("CRASHGATE_EVENT_FD")
            try:
                fd = int(env) if env is not None else 3
            except ValueError:
                fd = -1
        self.fd = -1
        if fd >= 0:
            try:
                fcntl.fcntl(fd, fcntl.F_GETFD)
                self.fd = fd
            except OSError:
                self.fd = -1

    def emit(self, event: dict) -> None:
        if self.fd < 0:
            return
        line = _utf8(_dump(event))
        if len(line) > EVENT_LINE_LIMIT:
            line = _utf8(_dump({"event": event.get("event", "log"), "truncated": True}))
        try:
            os.write(self.fd, line + b"\n")  # one write: the runner reads whole lines
        except OSError:
            pass  # the runner went away: nothing to tell

    def hello(self, driver: str, version: str, engine: str = "", engine_version: str = "") -> None:
        event = {"event": "hello", "protocol": PROTOCOL, "driver": driver, "version": version}
        if engine:
            event["engine"] = engine  # the engine the driver runs and its version as loaded
        if engine_version:
            event["engine_version"] = engine_version
        self.emit(event)

    def step_start(self, index: int, op: str) -> None:
        self.emit({"event": "step-start", "index": index, "op": op})

    def step_end(self, index: int, result: StepResult, duration_ms: float) -> None:
        e = {"event": "step-end", "index": index, "status": "ok" if result.is_ok else "error", "duration_ms": duration_ms}
        if not result.is_ok:
            e["code"] = result.code
            message = _utf8(result.message)
            e["message"] = (message[:MESSAGE_LIMIT].decode("utf-8", "ignore") + "...") if len(message) > MESSAGE_LIMIT \
                else result.message
        measured = {k: float(v) for k, v in result.measured.items() if math.isfinite(float(v))}
        if measured:
            e["measured"] = measured
        self.emit(e)

    def log(self, message: str) -> None:
        self.emit({"event": "log", "message": message})

    def done(self) -> None:
        self.emit({"event": "done"})


class Context:
    """What a handler has besides its step's keys."""

    def __init__(self, driver: "Driver", cell: dict, events: Events):
        self.driver = driver
        self.cell = cell
        self.events = events
        self.work_dir = cell.get("work_dir", ".") if isinstance(cell.get("work_dir"), str) else "."
        seed = cell.get("seed")
        self.seed = seed if _is_int(seed) and 0 <= seed <= U64_MAX else 1
        stack = cell.get("worker_stack")
        self.worker_stack = stack if _is_int(stack) and 0 <= stack <= U64_MAX else 0  # bytes; 0: the default
        self.check_invariants = cell.get("check_invariants") is True  # the engine's own check after every step

    def log(self, message: str) -> None:
        self.events.log(message)

    def offset(self, file: str, path: str, expr: str, extra: Optional[ExtraTerm] = None) -> int:
        """An offset expression evaluated against `path`, a file the layout calls
        `file`; one that cannot be evaluated is StepError invalid-argument."""
        layout = self.driver.layout_file(file)
        if layout is None:
            raise StepError("invalid-argument", f"the layout has no file '{file}'")
        try:
            return evaluate_offset(layout, path, expr, extra)
        except OffsetError as e:
            raise StepError("invalid-argument", str(e)) from None


class ThreadStartError(RuntimeError):
    pass


def thread_stack_size() -> Optional[int]:
    """The calling thread's stack size in bytes as the C library sees it
    (pthread_getattr_np), or None where that cannot be asked."""
    try:
        import ctypes  # noqa: PLC0415
        libc = ctypes.CDLL(None)
        libc.pthread_self.restype = ctypes.c_ulong
        attr = ctypes.create_string_buffer(256)  # a pthread_attr_t (56 bytes on x86_64)
        if libc.pthread_getattr_np(ctypes.c_ulong(libc.pthread_self()), attr) != 0:
            return None
        size = ctypes.c_size_t()
        rc = libc.pthread_attr_getstacksize(attr, ctypes.byref(size))
        libc.pthread_attr_destroy(attr)
        return size.value if rc == 0 else None
    except (OSError, AttributeError):
        return None


# glibc rounds a requested stack up to whole pages; anything larger means the
# thread got another stack than asked.
STACK_SLACK = 64 * 1024


def stack_mismatch(requested: int) -> Optional[str]:
    """Why the calling thread's stack is not the `requested` one, or None when
    it is (or cannot be told). glibc hands a new thread a cached stack of an
    ended thread when it is at most 4 times the size asked for, so a thread
    asked to have 2 MiB can get 8 MiB: a cell must not silently run on that."""
    if not requested:
        return None
    actual = thread_stack_size()
    if actual is None or requested <= actual <= requested + STACK_SLACK:
        return None
    return (f"the worker thread got a {format_size(actual)} stack, not the cell's worker_stack of {format_size(requested)} "
            "(glibc reuses the cached stack of an ended thread up to 4 times the size asked for: start no threads "
            "that end before the worker, e.g. in on_start)")


def start_thread(stack: int, fn: Callable[[], None], name: str = "crashgate-worker") -> threading.Thread:
    """Starts fn on a thread with this stack size in bytes (0: the default) and
    returns it (join it). The process's default is restored at once. Raises
    ThreadStartError when no thread with that stack can be started: never run
    on another stack than asked, the cell would test something else."""
    previous = None
    try:
        if stack:
            previous = threading.stack_size(stack)
        t = threading.Thread(target=fn, name=name)
        t.start()
        return t
    except (ValueError, RuntimeError, OverflowError) as e:
        raise ThreadStartError(f"cannot start a thread with a {stack}-byte stack: {e}") from None
    finally:
        if previous is not None:
            threading.stack_size(previous)


# ---------------------------------------------------------------------------
# Conformance probes (CRASHGATE_PROBE): what `crashgate driver-check` needs to
# see from inside a driver. Both run on a thread with the cell's worker stack.

PROBES = ("stack", "crash-in-step")


def _probe_descend(depth: int) -> int:
    # CPython 3.11 runs a Python-to-Python call without a new C frame; a call
    # through a method-wrapper (a C callable) enters the evaluation loop again,
    # so each level takes C stack (hundreds of bytes) until the guard page.
    return _probe_descend.__call__(depth + 1) + 1


def overflow_c_stack() -> str:
    """Recurses on the calling thread until its C stack overflows: the process
    dies of SIGSEGV in the thread's guard page. Returns (why) only if something
    stopped the recursion first. CPython 3.11's recursion limit counts these
    C-level calls too: raised out of the way, the C stack runs out first.
    (CPython 3.12 and later cap C-level recursion on their own and raise
    RecursionError: there the probe returns, and the cell exits 2 saying so.)"""
    sys.setrecursionlimit(1 << 30)
    try:
        _probe_descend(0)
    except BaseException as e:  # noqa: BLE001 (whatever stopped it, the probe failed)
        return f"the recursion stopped with {type(e).__name__}: {e}"
    return "the recursion returned"


def _run_probe(which: str, events: Events) -> str:
    if which == "stack":
        events.step_start(0, "probe-stack")
        return overflow_c_stack()
    if which == "crash-in-step":
        events.step_start(0, "probe-crash")
        # SIG_DFL was restored by the main thread (signal.signal works there only);
        # the signal goes to this thread, as raise(3) would send it.
        signal.pthread_kill(threading.get_ident(), signal.SIGSEGV)
        time.sleep(5)
        return "SIGSEGV did not end the process"
    return f"unknown probe '{which}'"


# ---------------------------------------------------------------------------
# The driver.

Handler = Callable[[Args, Context], Optional[StepResult]]


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass


class _InvariantWindow:
    """Whether the engine's own check must pass after a step: the record model
    knows the store from a create on, until something outside it (damage, an
    import, a replaced file, a second process, an armed failpoint) changes the
    store behind its back, and not while workloads run (until join)."""

    def __init__(self) -> None:
        self.known = False
        self.workloads = False

    def after(self, step: "Args", ok: bool) -> None:
        op = step.op.name
        if op == "create" and ok:
            self.known, self.workloads = True, False
        elif op in ("import", "truncate", "corrupt", "replace", "second-process"):
            self.known = False
        elif op == "failpoints" and step.string("spec"):
            self.known = False
        elif op == "spawn-workload":
            self.workloads = True
        elif op == "join":
            self.workloads = False

    def open(self) -> bool:
        return self.known and not self.workloads


class _Run:
    def __init__(self, driver: "Driver", steps: list, context: Context):
        self.driver = driver
        self.steps = steps
        self.context = context
        self.window = _InvariantWindow()
        self.exit_code = EXIT_ALL_STEPS_OK
        self.finished = False
        self.failure: Optional[str] = None
        self.wrong_stack: Optional[str] = None
        self.model_events = False  # CRASHGATE_MODEL_EVENTS=1: a records event after every ok step


class Driver:
    def __init__(self, name: str, version: str = "1"):
        self.name = name
        self.version = version
        self.engine_name = ""
        self.engine_version = ""
        self._handlers: dict = {}
        self._open_store: Optional[Handler] = None
        self._values: dict = {}  # (op, key) -> [values]
        self._layout: list = []
        self._listings: dict = {}
        self._second_process: Optional[Callable[[list], int]] = None
        self._finish: Optional[Callable[[Context], Optional[StepResult]]] = None
        self._invariants: Optional[Callable[[Args, Context], Optional[StepResult]]] = None
        self._start: Optional[Callable[[dict, Context], Any]] = None
        self._model_snapshot: Optional[Callable[[], dict]] = None
        self._durable_after: Optional[Callable[[str], bool]] = None
        self._declaration_errors: list = []

    # -- declarations ------------------------------------------------------

    def engine(self, name: str, version: str) -> "Driver":
        """The engine this driver runs and its version as loaded ("hnswlib",
        "0.6.2"): said in hello, kept with every outcome, and matched by the
        known issues that name an engine and its versions."""
        self.engine_name = name
        self.engine_version = version
        return self

    def on(self, op: str, handler: Optional[Handler] = None):
        """The handler of an op of the table: driver.on("count", fn) (returns the
        driver, to chain) or @driver.on("count") (returns the function)."""
        def register(fn):
            if find_op(op) is None:
                self._declaration_errors.append(f"a handler for '{op}', which is not an op of the table (crashgate ops)")
            elif op in self._handlers:
                self._declaration_errors.append(f"two handlers for '{op}'")
            self._handlers[op] = fn
            return fn
        if handler is None:
            return register
        register(handler)
        return self

    def before_store_ops(self, fn: Handler) -> Handler:
        """fn(args, ctx) runs before every op the table marks as needing an open
        store (it opens the store when it is closed); an error ends the step."""
        self._open_store = fn
        return fn

    def values(self, op: str, key: str, accepted: Iterable[str]) -> "Driver":
        """The values the engine accepts for one of its enum keys (a file, a read mode, ...)."""
        spec = find_op(op)
        k = spec.key(key) if spec else None
        if k is None or not k.engine_values:
            self._declaration_errors.append(f"values for {op}.{key}, which is not a key whose values are the engine's")
        self._values[(op, key)] = list(accepted)
        return self

    def layout(self, files: Iterable) -> "Driver":
        """The engine's file layout (--list layout, offset expressions): LayoutFile objects or dicts."""
        self._layout = [_layout_file(f) for f in files]
        return self

    def listing(self, what: str, fn: Optional[Callable[[], Any]] = None):
        """Another table for --list WHAT. fn() prints it and returns the exit
        status, or returns the rows (dicts) for the kit to print as JSON lines."""
        def register(f):
            if what in ("ops", "layout"):
                self._declaration_errors.append(f"--list {what} is the kit's own")
            self._listings[what] = f
            return f
        if fn is None:
            return register
        register(fn)
        return self

    def second_process(self, fn: Callable[[list], int]) -> Callable[[list], int]:
        """fn(argv) -> exit status: the entry point of `DRIVER --second-process ARGS...`."""
        self._second_process = fn
        return fn

    def on_finish(self, fn: Callable[[Context], Optional[StepResult]]):
        """fn(ctx) runs once the steps ended (or stopped): wait for background work; its error ends the cell."""
        self._finish = fn
        return fn

    def invariants(self, fn: Callable[[Args, Context], Optional[StepResult]]):
        """fn(args, ctx): the engine's own consistency check, run after every
        step that ended ok when the cell sets check_invariants and the model
        knows the store (reports/driver-protocol.md, cell.json); its error
        (raised or returned) becomes that step's. Without one, such a cell is refused."""
        self._invariants = fn
        return fn

    def record_model(self, snapshot: Callable[[], dict], durable_after: Callable[[str], bool]) -> "Driver":
        """For crashgate crash-check: when the run is recorded
        (CRASHGATE_MODEL_EVENTS=1), after every step that ended ok the kit writes
        a `records` event with snapshot() (Records.model(): the ids live and
        removed) and whether durable_after(op) says that op's return means the
        engine has made the model durable (a sync, or every write of an engine
        that syncs each commit). Without one, such a run is refused (exit 2)."""
        self._model_snapshot = snapshot
        self._durable_after = durable_after
        return self

    def on_start(self, fn: Callable[[dict, Context], Any]):
        """fn(cell, ctx) runs before the first step (before hello): set up the
        engine. Raising, or returning an error message, makes the cell one the
        driver cannot run (exit 2)."""
        self._start = fn
        return fn

    # -- what was declared -------------------------------------------------

    def self_check(self) -> list:
        """Every problem of the driver's own declarations; empty: fine."""
        problems = list(self._declaration_errors)
        for op, handler in self._handlers.items():
            if handler is None:
                problems.append(f"op '{op}' is listed with no handler")
            spec = find_op(op)
            if spec is None:
                continue
            for key in spec.keys:
                if key.engine_values and not key.default_values and (op, key.name) not in self._values:
                    problems.append(f"op '{op}' takes {key.name}, whose values are the engine's, but the driver lists none "
                                    f"(Driver.values)")
        for (op, key), accepted in self._values.items():
            if op not in self._handlers:
                problems.append(f"values for {op}.{key}, but no handler for op '{op}'")
            if not accepted:
                problems.append(f"an empty list of values for {op}.{key}")
        for file in self._layout:
            if not file.file:
                problems.append("a layout file with no name")
            for f in file.fields:
                if f.width == 0 or (file.header_size and f.offset + f.width > file.header_size):
                    problems.append(f"layout {file.file}.{f.name}: offset {f.offset} + width {f.width} lies outside the "
                                    f"{file.header_size}-byte header")
        for (op, key), accepted in self._values.items():
            if key == "file" and op != "replace":
                for name in accepted:
                    if self.layout_file(name) is None:
                        problems.append(f"{op}.{key} accepts '{name}', which the layout does not describe")
        return problems

    def layout_files(self) -> list:
        return list(self._layout)

    def layout_file(self, file: str) -> Optional[LayoutFile]:
        for f in self._layout:
            if f.file == file:
                return f
        return None

    def accepted_values(self, op: str, key: str) -> Optional[list]:
        """The values the driver takes for an engine key: its own list, else the key's defaults."""
        v = self._values.get((op, key))
        if v is not None:
            return list(v)
        spec = find_op(op)
        k = spec.key(key) if spec else None
        if k is not None and k.engine_values and k.default_values:
            return list(k.default_values)
        return None

    def ops_listing(self) -> list:
        """The `--list ops` lines: one object per op this driver handles, in the table's order."""
        out = []
        for op in OPS:
            if op.name not in self._handlers:
                continue
            values = {k.name: self.accepted_values(op.name, k.name) for k in op.keys
                      if self.accepted_values(op.name, k.name) is not None}
            out.append({"op": op.name, "needs_store": op.needs_store, "values": values})
        return out

    def layout_listing(self) -> list:
        return [f.as_json() for f in self._layout]

    # -- the command line --------------------------------------------------

    def main(self, argv: Optional[list] = None) -> int:
        """Parses the command line (--cell PATH, --list WHAT, --second-process,
        --help) and runs; returns the exit status. argv as sys.argv (argv[0] the program)."""
        argv = list(sys.argv if argv is None else argv)
        args = argv[1:]
        if args and args[0] == "--second-process":
            if self._second_process is None:
                return self._usage("this driver starts no second processes", EXIT_CANNOT_RUN)
            return self._second_process(argv)
        if args and args[0] in ("--help", "-h"):
            return self._usage("", 0)
        if len(args) == 2 and args[0] == "--list":
            return self._list(args[1])
        if len(args) == 2 and args[0] == "--cell":
            return self.run_cell(args[1])
        return self._usage("expected --cell PATH" if not args else f"unexpected arguments starting at '{args[0]}'",
                           EXIT_CANNOT_RUN)

    def _usage(self, why: str, status: int) -> int:
        more = "".join("|" + what for what in sorted(self._listings))
        text = ((f"crashgate-driver-{self.name}: {why}\n" if why else "")
                + f"usage: crashgate-driver-{self.name} --cell WORK_DIR/cell.json\n"
                f"       crashgate-driver-{self.name} --list ops|layout{more}\n"
                f"Runs one crashgate scenario cell against {self.name} (driver protocol 1: reports/driver-protocol.md),\n"
                "or prints one of its tables as JSON lines.\n"
                "Exit status: 0 every step ended as expected, 1 a step did not (the driver stopped there),\n"
                "2 the cell cannot be run (bad cell.json, an op or value this driver does not support).\n")
        stream = sys.stdout if status == 0 else sys.stderr
        stream.write(text)
        stream.flush()
        return status

    def _list(self, what: str) -> int:
        if what in ("ops", "layout"):
            try:
                for line in (self.ops_listing() if what == "ops" else self.layout_listing()):
                    sys.stdout.write(_dump(line) + "\n")
                sys.stdout.flush()
            except BrokenPipeError:  # `--list ops | head`: the reader has what it wanted
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_ALL_STEPS_OK
        if what in self._listings:
            result = self._listings[what]()
            if result is None:
                status = EXIT_ALL_STEPS_OK
            elif isinstance(result, int) and not isinstance(result, bool):
                status = result
            else:
                for row in result:
                    sys.stdout.write(_dump(row) + "\n")
                status = EXIT_ALL_STEPS_OK
            sys.stdout.flush()
            return status
        known = ", ".join(["ops", "layout"] + sorted(self._listings))
        sys.stderr.write(f"crashgate-driver-{self.name}: --list takes one of {known}, not '{what}'\n")
        return EXIT_CANNOT_RUN

    # -- a cell --------------------------------------------------------------

    def _cannot_run(self, why: str) -> int:
        sys.stderr.write(f"crashgate-driver-{self.name}: {why}\n")
        sys.stderr.flush()
        return EXIT_CANNOT_RUN

    def check_cell(self, cell, path: str = "cell.json") -> list:
        """The cell's steps as Args, or CellError: protocol, types, and what this driver supports."""
        if not isinstance(cell, dict):
            raise CellError(f"{path}: not valid JSON")
        protocol = cell.get("protocol", 0)
        if not _is_int(protocol) or protocol != PROTOCOL:
            raise CellError(f"{path}: not a protocol-1 cell (this driver speaks protocol 1)")
        try:
            steps = read_steps(cell)
        except CellError as e:
            raise CellError(f"{path}: {e}") from None
        for step in steps:
            if step.op.name not in self._handlers:
                raise CellError(f"{path}: step {step.index}: this driver does not support op '{step.op.name}' "
                                "(--list ops says what it does)")
            for key in step.op.keys:
                accepted = self.accepted_values(step.op.name, key.name)
                if accepted is None or not step.has(key.name):
                    continue
                try:
                    typed_value(key, step._values[key.name], accepted, "canonical")
                except InvalidValue as e:
                    raise CellError(f"{path}: step {step.index} ({step.op.name}): {e}") from None
        if "check_invariants" in cell:
            if not isinstance(cell["check_invariants"], bool):
                raise CellError(f"{path}: check_invariants must be true or false")
            if cell["check_invariants"] and self._invariants is None:
                raise CellError(f"{path}: the cell asks for check_invariants, and this driver has no invariants check")
        return steps

    def run_cell(self, path: str) -> int:
        problems = self.self_check()
        if problems:
            return self._cannot_run("the driver's own declarations are wrong:" + "".join("\n  " + p for p in problems))
        try:
            with open(path, "rb") as f:
                text = f.read()
        except OSError:
            return self._cannot_run(f"cannot read {path}")
        try:
            cell = json.loads(text.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return self._cannot_run(f"{path}: not valid JSON")
        try:
            steps = self.check_cell(cell, path)
        except CellError as e:
            return self._cannot_run(str(e))
        model_events = os.environ.get("CRASHGATE_MODEL_EVENTS") == "1"
        if model_events and self._model_snapshot is None:
            return self._cannot_run("CRASHGATE_MODEL_EVENTS=1, but this driver reports no record model (Driver.record_model)")
        events = Events()
        context = Context(self, cell, events)
        if self._start is not None:
            try:
                started = self._start(cell, context)
            except Exception as e:  # noqa: BLE001
                return self._cannot_run(str(e) or type(e).__name__)
            if isinstance(started, str) and started:
                return self._cannot_run(started)
        events.hello(self.name, self.version, self.engine_name, self.engine_version)
        probe = os.environ.get("CRASHGATE_PROBE", "")
        if probe:
            return self._probe(probe, context)
        # The steps run on one worker thread with the cell's stack (a 2 MiB tokio worker in the field).
        run = _Run(self, steps, context)
        run.model_events = model_events
        try:
            worker = start_thread(context.worker_stack, lambda: self._run_steps(run))
        except ThreadStartError as e:
            return self._cannot_run(str(e))
        worker.join()
        if run.wrong_stack:
            return self._cannot_run(run.wrong_stack)
        if not run.finished:
            sys.stderr.write(f"crashgate-driver-{self.name}: the driver kit failed: {run.failure or 'the worker ended early'}\n")
            _flush_all()
            return EXIT_KIT_FAILED
        if run.exit_code == EXIT_ALL_STEPS_OK:
            events.done()
        _flush_all()
        return run.exit_code

    def _probe(self, which: str, context: Context) -> int:
        if which not in PROBES:
            return self._cannot_run(f"CRASHGATE_PROBE={which}: unknown probe ({', '.join(PROBES)})")
        # A handler would hide the crash: the signal must end the process as it would a C++ driver.
        faulthandler.disable()
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        outcome = []
        try:
            prober = start_thread(context.worker_stack, lambda: outcome.append(_run_probe(which, context.events)))
        except ThreadStartError as e:
            return self._cannot_run(str(e))
        prober.join()
        return self._cannot_run(f"CRASHGATE_PROBE={which} returned: {outcome[0] if outcome else 'no result'}")

    # -- the worker ------------------------------------------------------------

    def _run_one(self, run: _Run, step: Args) -> StepResult:
        """The step, then (when the cell asks and the model knows the store) the
        engine's own check, whose failure becomes the step's error."""
        r = self._run_handler(run, step)
        run.window.after(step, r.is_ok)
        if not r.is_ok or r.descendant_signal or not run.context.check_invariants or self._invariants is None \
                or not run.window.open():
            return r
        try:
            check = _as_result(self._invariants(step, run.context))
        except StepError as e:
            check = StepResult.error(e.code, e.message)
        except Exception as e:  # noqa: BLE001
            check = StepResult.error("invalid-argument", f"invariants: {_exception_text(e)}")
        if check.descendant_signal or check.is_ok:
            return check if check.descendant_signal else r
        return StepResult(False, check.code, "invariant after this step: " + check.message, 0, r.measured)

    def _run_handler(self, run: _Run, step: Args) -> StepResult:
        try:
            if step.op.needs_store and self._open_store is not None:
                opened = _as_result(self._open_store(step, run.context))
                if not opened.is_ok or opened.descendant_signal:
                    return opened
            return _as_result(self._handlers[step.op.name](step, run.context))
        except StepError as e:
            return StepResult.error(e.code, e.message)
        except Exception as e:  # noqa: BLE001
            # A driver's own mistake (a key read as the wrong type) or the engine's
            # exception: reported as the step's error, not a crash.
            return StepResult.error("invalid-argument", f"step {step.index} ({step.op.name}): {_exception_text(e)}")

    def _finish_result(self, run: _Run) -> StepResult:
        try:
            return _as_result(self._finish(run.context))
        except StepError as e:
            return StepResult.error(e.code, e.message)
        except Exception as e:  # noqa: BLE001
            return StepResult.error("invalid-argument", f"finish: {_exception_text(e)}")

    def _run_steps(self, run: _Run) -> None:
        try:
            run.wrong_stack = stack_mismatch(run.context.worker_stack)
            if run.wrong_stack is None:
                self._run_steps_unguarded(run)
            run.finished = True
        except BaseException as e:  # noqa: BLE001 (a kit bug, or SystemExit from a handler)
            import traceback
            run.failure = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"

    def _run_steps_unguarded(self, run: _Run) -> None:
        events = run.context.events
        for step in run.steps:
            events.step_start(step.index, step.op.name)
            start = time.monotonic()
            r = self._run_one(run, step)
            if r.descendant_signal:
                _exit_for_descendant(r)
            ms = (time.monotonic() - start) * 1000.0
            events.step_end(step.index, r, ms)
            if r.is_ok and run.model_events:
                events.emit({"event": "records", "step": step.index, "op": step.op.name,
                             "durable": bool(self._durable_after(step.op.name)), "model": self._model_snapshot()})
            # Go on only while each step ended as its `expect` allows (crashgate judges the same way).
            expect = step.string("expect") if step.has("expect") else ""
            judged = judge_step(expect, r.is_ok, r.code, r.message)
            if judged.note:
                events.log(f"step {step.index} ({step.op.name}) {judged.note}")
            if not judged.ok:
                sys.stderr.write(f"step {step.index} ({step.op.name}): {judged.code}: {judged.message}\n")
                sys.stderr.flush()
                run.exit_code = EXIT_STEP_FAILED
                if self._finish is not None:
                    self._finish_result(run)  # background work stops; its result cannot change this one
                return
        if self._finish is None:
            return
        joined = self._finish_result(run)
        index = len(run.steps)
        if joined.descendant_signal:
            events.step_start(index, "join")
            _exit_for_descendant(joined)
        if not joined.is_ok:
            events.step_start(index, "join")
            events.step_end(index, joined, 0)
            sys.stderr.write(f"background work: {joined.code}: {joined.message}\n")
            sys.stderr.flush()
            run.exit_code = EXIT_STEP_FAILED


def _as_result(value) -> StepResult:
    if value is None:
        return StepResult.ok()
    if isinstance(value, StepResult):
        return value
    raise DriverBug(f"a handler returned {type(value).__name__}, not a StepResult")


def _exception_text(e: BaseException) -> str:
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _exit_for_descendant(r: StepResult) -> None:
    # A second process crashed: leave the step unended and exit 128 + signal, the
    # shell's convention, so the runner attributes the crash it traced there.
    sys.stderr.write(r.message + "\n")
    _flush_all()
    os._exit(128 + r.descendant_signal)
