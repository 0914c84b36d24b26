"""Instruction counts: the counting processes' command, and their dumps read as rows.

A counting process is pytest under ``valgrind --tool=callgrind --instr-atstart=no``, with
the hash seed fixed and, where ``setarch -R`` is allowed, address randomisation off: the
same commit then counts within a few hundred instructions per span (docs/methodology.md).
Inside it, :class:`~dynapi_bench.callgrind.Spans` counts each benchmark's workload (and, in
the suite's run, each test) as spans of their own, one callgrind dump each, and writes their
labels in dump order. :func:`count_rows` pairs them and reads each dump's cost per function
(callgrind's format: https://valgrind.org/docs/manual/cl-format.html), so that a count that
moved can say which functions gained instructions.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dynapi_bench import children
from dynapi_bench.callgrind import supported
from dynapi_bench.errors import PassError
from dynapi_bench.results import Row

__all__ = ["Dump", "count_prefix", "count_rows", "read_dump", "unavailable", "whole_prefix"]

# Functions kept per row (by instructions per item): enough to show where a change of 1% went.
TOP_FUNCTIONS = 40
_OUT = "callgrind.out"


def unavailable() -> str | None:
    """Why counts cannot be taken here (one line with the fix), or None when they can."""
    if not supported():
        return "instruction counts skipped: they need x86-64 Linux; wall time and memory are measured as usual"
    if shutil.which("valgrind") is None:
        return "instruction counts skipped: valgrind is not installed (`apt-get install valgrind`)"
    return None


def _aslr_off() -> list[str]:
    """``setarch -R`` where the kernel allows it (a container may refuse the personality call)."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return []
    done = children.run([setarch, "-R", "true"])
    return [setarch, "-R"] if done.returncode == 0 else []


def count_prefix(folder: Path) -> list[str]:
    """The command that a counted pytest process starts with; its dumps go to ``folder``."""
    return [
        *_aslr_off(),
        "valgrind",
        "--quiet",
        "--tool=callgrind",
        "--instr-atstart=no",  # start-up runs uninstrumented; spans switch it on
        "--dump-line=no",  # cost per function, not per source line: small, fast dumps
        "--compress-pos=no",
        "--separate-recs=1",  # one name per function, however deep it recurses
        f"--callgrind-out-file={folder / _OUT}",
    ]


def whole_prefix() -> list[str]:
    """The command that counts a process whole (the start-up comparison), with ``{out}`` where
    its out file goes: cachegrind without its cache simulation counts every instruction at half
    callgrind's cost (19 s against 39 s for a one-second pytest process), and a whole process
    needs no spans."""
    return [*_aslr_off(), "valgrind", "--quiet", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file={out}"]


# glibc's allocator: how many instructions malloc and free take depends on the heap's whole
# history (which bins hold what), not on the code being measured. The same commit's invalid-
# response benchmark spent 45k or 174k instructions in _int_malloc in two fresh processes
# (3.9 M and 3.7 M a span, 5.9% apart). Counts leave these functions out; their callers, and
# Python's own allocator (pymalloc: _PyObject_Malloc), are counted.
ALLOCATOR = frozenset(
    {
        "malloc",
        "free",
        "realloc",
        "calloc",
        "memalign",
        "posix_memalign",
        "aligned_alloc",
        "_int_malloc",
        "_int_free",
        "_int_realloc",
        "_int_memalign",
        "malloc_consolidate",
        "alloc_perturb",
        "sysmalloc",
        "systrim",
        "tcache_init",
        "malloc_trim",
    }
)


def _allocator(name: str) -> bool:
    return name in ALLOCATOR or name.startswith("unlink_chunk")


@dataclass(frozen=True)
class Dump:
    """One span's dump: its instructions less glibc's allocator's, and the self cost of
    every function (the allocator's included, so that it stays visible)."""

    total: int
    allocator: int
    functions: Counter[str]


def read_dump(path: Path) -> Dump:
    """Self cost per function of one dump (``fn=`` blocks; a ``calls=`` line's cost line is
    the callee's inclusive cost, already counted in the callee's own block)."""
    names: dict[str, str] = {}
    functions: Counter[str] = Counter()
    total = 0
    current = ""
    skip_next = False
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            head = line[:1]
            if head.isdigit() or head in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                fields = line.split()
                if len(fields) > 1:
                    functions[current] += int(fields[1])
            elif line.startswith("fn="):
                current = _name(line[3:].strip(), names)
            elif line.startswith("calls="):
                skip_next = True
            elif line.startswith("cfn="):  # a callee's name may be defined here, used later
                _name(line[4:].strip(), names)
            elif line.startswith("summary:"):
                total = int(line.split()[1])
    allocator = sum(cost for name, cost in functions.items() if _allocator(name))
    return Dump((total or sum(functions.values())) - allocator, allocator, functions)


def _name(text: str, names: dict[str, str]) -> str:
    """Callgrind's name compression: ``(id) name`` defines, ``(id)`` refers."""
    if text.startswith("("):
        key, _, rest = text.partition(")")
        rest = rest.strip()
        if rest:
            names[key] = rest
        return names.get(key, text)
    return text


def _dumps(folder: Path) -> Iterator[Path]:
    for k in itertools.count(1):
        path = folder / f"{_OUT}.{k}"
        if not path.exists():
            return
        yield path


def count_rows(folder: Path, log: Path, side: str) -> list[Row]:
    """The count rows of one counting process: a benchmark's span gives one row (its count per
    call per item); the suite's passed tests give ``test_execution_instructions[VERSION]``."""
    labels_path = folder / "spans.json"
    try:
        spans: list[dict[str, Any]] = json.loads(labels_path.read_text(encoding="utf-8"))["spans"]
    except (OSError, ValueError, KeyError) as exc:
        raise PassError(
            f"{side}: the counting process wrote no readable {labels_path.name} ({exc}); see {log}"
        ) from None
    dumps = list(_dumps(folder))
    if len(dumps) != len(spans):
        raise PassError(
            f"{side}: {len(spans)} spans labelled but {len(dumps)} callgrind dumps in {folder}; "
            f"was the process run under valgrind? see {log}"
        )
    grouped: dict[str, list[tuple[dict[str, Any], Dump]]] = defaultdict(list)
    for label, path in zip(spans, dumps, strict=True):
        if label.get("kpi") == "test_execution":
            if label.get("outcome") != "passed" or label.get("api_version") is None:
                continue
            grouped[f"test_execution_instructions[{label['api_version']}]"].append((label, read_dump(path)))
        else:
            grouped[str(label["row"])].append((label, read_dump(path)))
    return [_row(name, found) for name, found in grouped.items()]


def _row(name: str, found: Sequence[tuple[dict[str, Any], Dump]]) -> Row:
    label = found[0][0]
    if label.get("kpi") == "test_execution":
        # One span a test: the row's value is the mean test of the version, keyed by node id so
        # that a comparison takes the tests both sides counted.
        per_test = {str(lab["row"]): float(d.total) for lab, d in found}
        functions = _per(sum((d.functions for _, d in found), Counter()), len(found))
        mean = float(np.mean(list(per_test.values())))
        return Row(
            kpi="test_execution_instructions",
            name=name,
            samples=np.asarray(list(per_test.values())),
            measure="instructions",
            process=np.asarray([mean]),
            keyed=per_test,
            info={"version": label["api_version"], "tests": len(found), "functions": functions},
        )
    # One span a benchmark (pytest-benchmark allows one call of the fixture a test).
    dump = found[0][1]
    n = int(label.get("iterations", 1)) * int(label.get("items", 1))  # items in the span
    per_item = dump.total / n
    own = {"row", "iterations", "kpi", "items", "measure"}
    return Row(
        kpi=f"{label['kpi']}_instructions",
        name=f"{name}::instructions",
        samples=np.asarray([per_item]),
        measure="instructions",
        process=np.asarray([per_item]),
        info={
            **{k: v for k, v in label.items() if k not in own},
            "functions": _per(dump.functions, n),
        },
    )


def _per(functions: Mapping[str, int], n: int) -> dict[str, float]:
    """The top functions by instructions per item."""
    return {name: cost / n for name, cost in Counter(functions).most_common(TOP_FUNCTIONS)}
