"""Tests of dynapi_bench.staging: a command's reports are published whole, or not at all.

Every test starts from the same earlier ``reports/`` and compares it byte for byte.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from dynapi_bench import staging
from dynapi_bench.errors import PassError
from dynapi_bench.interrupts import Interrupted, committing, handling
from dynapi_bench.staging import PREFIX, staged

EARLIER = {
    "results.json": "old results",
    "base-results.json": "old base",
    "summary.md": "old summary",
    "raw/head/timing-0/pytest.log": "old log",
    "raw/head/memory/memory.json": "old memory",
    "profiles/config_load.html": "old profile",
    "selftest.json": "an earlier self-test",
}


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """An earlier command's reports."""
    folder = tmp_path / "reports"
    write(folder, EARLIER)
    return folder


def stages(reports: Path) -> list[str]:
    return [p.name for p in reports.glob(f"{PREFIX}*")]


def stopped_command(reports: Path, files: dict[str, str], stop: BaseException) -> None:
    """A command that stages ``files``, drops ``base-results.json`` and ends with ``stop``."""
    with staged(reports) as stage:
        write(stage.path, files)
        stage.drop("base-results.json")
        raise stop


def test_the_stage_is_a_hidden_folder_of_its_own_inside_the_reports(reports: Path) -> None:
    with staged(reports) as stage:
        assert stage.path.parent == reports.resolve()
        assert stage.path.name.startswith(f"{PREFIX}{os.getpid()}-")
        assert list(stage.path.iterdir()) == []
        assert stage.final(stage.path / "profiles" / "x.html") == reports.resolve() / "profiles" / "x.html"


def test_publishing_replaces_each_entry_whole(reports: Path) -> None:
    new = {"results.json": "new results", "raw/head/timing-0/pytest.log": "new log", "summary.md": "new summary"}
    with staged(reports) as stage:
        write(stage.path, new)
        stage.drop("base-results.json")
        assert tree(reports) == {**tree(reports), **{k: v.encode() for k, v in EARLIER.items()}}  # nothing yet
        published = stage.publish()
    assert published == [reports.resolve() / name for name in ("raw", "results.json", "summary.md")]
    assert tree(reports) == {
        "profiles": None,  # not this command's: left as it was
        "profiles/config_load.html": b"old profile",
        "raw": None,  # replaced whole: the old memory.json is gone
        "raw/head": None,
        "raw/head/timing-0": None,
        "raw/head/timing-0/pytest.log": b"new log",
        "results.json": b"new results",
        "selftest.json": b"an earlier self-test",
        "summary.md": b"new summary",
    }


def test_a_first_command_creates_the_reports(tmp_path: Path) -> None:
    with staged(tmp_path / "reports") as stage:
        write(stage.path, {"results.json": "new"})
        stage.publish()
    assert tree(tmp_path / "reports") == {"results.json": b"new"}


@pytest.mark.parametrize(
    "stop",
    [Interrupted(2), Interrupted(15), KeyboardInterrupt(), RuntimeError("a bug")],
    ids=["SIGINT", "SIGTERM", "KeyboardInterrupt", "error"],
)
def test_an_interrupted_or_failed_command_leaves_the_reports_byte_identical(reports: Path, stop: BaseException) -> None:
    before = tree(reports)
    with pytest.raises(type(stop)):
        stopped_command(reports, {"results.json": "half", "raw/head/timing-0/pytest.log": "half a log"}, stop)
    assert tree(reports) == before
    assert stages(reports) == []


def test_an_interrupted_first_command_leaves_no_reports_folder(tmp_path: Path) -> None:
    with pytest.raises(Interrupted):
        stopped_command(tmp_path / "reports", {"results.json": "half"}, Interrupted(15))
    assert not (tmp_path / "reports").exists()


def test_a_failed_pass_keeps_its_logs_until_the_next_command(reports: Path) -> None:
    before = tree(reports)
    with pytest.raises(PassError):
        stopped_command(reports, {"raw/head/memory/pytest.log": "why it failed"}, PassError("see the log"))
    [kept] = stages(reports)
    assert (reports / kept / "raw" / "head" / "memory" / "pytest.log").read_text() == "why it failed"
    assert {k: v for k, v in tree(reports).items() if not k.startswith(PREFIX)} == before
    with staged(reports) as stage:
        assert stages(reports) == [stage.path.name]  # the next command swept the old stage
    assert stages(reports) == []


def test_a_stage_in_use_is_never_swept(reports: Path) -> None:
    with staged(reports) as first, staged(reports) as second:
        assert sorted(stages(reports)) == sorted([first.path.name, second.path.name])
        write(first.path, {"results.json": "first"})
        first.publish()
    assert (reports / "results.json").read_text() == "first"


def test_two_publishers_never_interleave(reports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A publishes its first entry and stops there; B publishes meanwhile. With the lock, B
    waits for A: the final set is one command's, whole. (Without it, B's set lands inside
    A's and A's last entries override B's: a mix.)"""
    names = ["index.html", "results.json", "summary.json", "summary.md"]
    paused, resume = threading.Event(), threading.Event()
    replace = os.replace

    def pausing_replace(src: Path, dst: Path) -> None:
        replace(src, dst)
        if threading.current_thread().name == "A" and not paused.is_set():
            paused.set()
            resume.wait(timeout=60)

    monkeypatch.setattr(staging.os, "replace", pausing_replace)

    def publish(who: str) -> None:
        with staged(reports) as stage:
            write(stage.path, dict.fromkeys(names, who))
            write(stage.path, {f"raw/{who}.log": who})
            if who == "B":
                paused.wait(timeout=60)  # A is half way through
            stage.publish()

    a = threading.Thread(target=publish, args=("A",), name="A")
    b = threading.Thread(target=publish, args=("B",), name="B")
    a.start()
    b.start()
    b.join(timeout=1)  # with the lock, B is still waiting for A; without it, B is done
    resume.set()
    a.join(timeout=60)
    b.join(timeout=60)
    assert not a.is_alive()
    assert not b.is_alive()
    final = {name: (reports / name).read_text() for name in names}
    assert len(set(final.values())) == 1, final  # one command's set, whole
    who = final["results.json"]
    assert [p.name for p in (reports / "raw").iterdir()] == [f"{who}.log"]
    assert stages(reports) == []


def publish_while_signalled(reports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replace = os.replace

    def signalled_replace(src: Path, dst: Path) -> None:
        replace(src, dst)
        signal.raise_signal(signal.SIGTERM)  # after the first entry: half way through

    with staged(reports) as stage:
        write(stage.path, {"results.json": "new", "summary.md": "new", "raw/head/timing-0/pytest.log": "new"})
        monkeypatch.setattr(staging.os, "replace", signalled_replace)
        with committing():
            stage.publish()


def test_a_signal_during_publishing_waits_for_the_whole_set(reports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert threading.current_thread() is threading.main_thread()  # where signal handlers run
    with pytest.raises(Interrupted) as caught, handling():
        publish_while_signalled(reports, monkeypatch)
    assert caught.value.committed
    assert [
        (reports / name).read_text() for name in ("results.json", "summary.md", "raw/head/timing-0/pytest.log")
    ] == [
        "new",
        "new",
        "new",
    ]
    assert stages(reports) == []
