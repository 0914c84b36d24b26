"""Tests of dynapi_bench.counts and dynapi_bench.callgrind: dumps read, spans paired, and a real
count under valgrind that repeats and scales with the work."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dynapi_bench import counts
from dynapi_bench.callgrind import Spans, running_on_valgrind, supported
from dynapi_bench.counts import count_prefix, count_rows, read_dump, unavailable
from dynapi_bench.errors import PassError

# A callgrind dump as callgrind writes it with --dump-line=no --compress-pos=no: names
# compressed as "(id) name", a call's cost line (inclusive) after each calls= line.
DUMP = """\
version: 1
creator: callgrind-3.19.0
events: Ir
summary: 1350
fl=(1) file.c
fn=(1) work
0 1000
cfl=(2) libc.so
cfn=(2) malloc
calls=2 0
0 300
fn=(2)
0 250
fn=(3) _int_malloc
0 50
fn=(4) helper
0 50
totals: 1350
"""


def test_read_dump_self_costs_and_allocator(tmp_path: Path) -> None:
    path = tmp_path / "callgrind.out.1"
    path.write_text(DUMP)
    dump = read_dump(path)
    assert dict(dump.functions) == {"work": 1000, "malloc": 250, "_int_malloc": 50, "helper": 50}
    assert dump.allocator == 300  # malloc and _int_malloc: glibc's, left out of the count
    assert dump.total == 1050


def _spans(folder: Path, labels: list[dict[str, object]], totals: list[int]) -> None:
    (folder / "spans.json").write_text(json.dumps({"pid": 1, "spans": labels}))
    for k, total in enumerate(totals, 1):
        (folder / f"callgrind.out.{k}").write_text(DUMP.replace("summary: 1350", f"summary: {total + 300}"))


def test_count_rows_pair_labels_and_dumps(tmp_path: Path) -> None:
    label = {"row": "b.py::test_x", "kpi": "data_generation", "iterations": 10, "items": 1, "version": "v2"}
    suite = [
        {"row": f"t.py::test_{i}[v1]", "kpi": "test_execution", "api_version": "v1", "outcome": outcome}
        for i, outcome in enumerate(["passed", "passed", "failed"])
    ]
    _spans(tmp_path, [label, *suite], [1000, 500, 700, 9999])
    rows = {r.name: r for r in count_rows(tmp_path, tmp_path / "log", "head")}
    bench = rows["b.py::test_x::instructions"]
    assert (bench.kpi, bench.measure, bench.value) == ("data_generation_instructions", "instructions", 100.0)
    assert bench.info["functions"]["work"] == 100.0  # 1,000 instructions over the span's 10 calls
    assert bench.info["version"] == "v2"
    assert set(bench.info["functions"]) == {"work", "malloc", "_int_malloc", "helper"}
    tests = rows["test_execution_instructions[v1]"]
    assert tests.keyed == {"t.py::test_0[v1]": 500.0, "t.py::test_1[v1]": 700.0}  # the failed test left out
    assert tests.value == 600.0


def test_count_rows_refuse_a_mismatch(tmp_path: Path) -> None:
    _spans(tmp_path, [{"row": "x", "kpi": "k"}] * 2, [1000])
    with pytest.raises(PassError, match="2 spans labelled but 1 callgrind dumps"):
        count_rows(tmp_path, tmp_path / "log", "head")
    (tmp_path / "spans.json").unlink()
    with pytest.raises(PassError, match=r"wrote no readable spans\.json"):
        count_rows(tmp_path, tmp_path / "log", "head")


def test_without_valgrind_one_line_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(counts.shutil, "which", lambda name: None)
    if supported():
        assert unavailable() == "instruction counts skipped: valgrind is not installed (`apt-get install valgrind`)"
    assert count_prefix(Path("/x"))[0] == "valgrind"  # no setarch without setarch


def test_spans_outside_valgrind_run_and_label(tmp_path: Path) -> None:
    assert not running_on_valgrind()
    spans = Spans(tmp_path / "spans.json")
    ran: list[int] = []
    spans.count(lambda: ran.append(1) or {"outcome": "passed"}, row="r", kpi="k")
    spans.save()
    assert ran == [1]
    assert json.loads((tmp_path / "spans.json").read_text())["spans"] == [{"row": "r", "kpi": "k", "outcome": "passed"}]


SCRIPT = """\
import sys
from pathlib import Path
from dynapi_bench.callgrind import Spans, running_on_valgrind
assert running_on_valgrind()
spans = Spans(Path(sys.argv[1]))
def work(n):
    def run():
        total = 0
        for i in range(n):
            total += len(str(i * 7919))
        return None
    return run
for n in (20_000, 40_000):
    work(n)()
    spans.count(work(n), row=f"loop{n}", kpi="k", iterations=1)
spans.save()
"""


@pytest.mark.skipif(unavailable() is not None, reason="needs valgrind on x86-64 Linux")
def test_real_counts_repeat_and_scale(tmp_path: Path) -> None:
    script = tmp_path / "count.py"
    script.write_text(textwrap.dedent(SCRIPT))
    found = []
    for k in range(2):
        folder = tmp_path / f"p{k}"
        folder.mkdir()
        cmd = [*count_prefix(folder), sys.executable, str(script), str(folder / "spans.json")]
        done = subprocess.run(
            cmd, capture_output=True, text=True, env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"}, check=False
        )
        assert done.returncode == 0, done.stderr
        found.append({r.name: r.value for r in count_rows(folder, folder / "log", "p")})
    small, large = found[0]["loop20000::instructions"], found[0]["loop40000::instructions"]
    assert 1.9 < large / small < 2.1  # twice the work, twice the count
    for name, value in found[0].items():  # a fresh process counts the same, within 0.3%
        assert abs(found[1][name] / value - 1) < 0.003
    assert shutil.which("valgrind")
