"""A command's reports, written into a staging folder of its own and published whole, or not at all.

``with staged(reports) as stage:`` gives ``stage.path``, a fresh ``reports/.run-<pid>-<random>/``
(inside ``reports/``: the same file system, so every move is a rename). The command writes
everything there; :meth:`Stage.publish` then moves each of its top-level entries into
``reports/``: a file by one atomic rename over the old one, a folder (``raw/``,
``profiles/``) by renaming the old one aside and the new one in, then deleting the old.
Publishing holds an exclusive ``flock`` on ``reports/`` itself, so that two commands that
finish together publish one whole set each, never a mix, and ``reports/`` gains no lock file.

Interrupted, or failed, the stage is deleted and ``reports/`` is as it was. After a
:class:`~dynapi_bench.errors.PassError`, whose message names a log inside the stage, the
stage is kept so the log can be read; the next command deletes it (and whatever a killed
command left) when it starts: a stage is in use while its command holds a ``flock`` on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dynapi_bench.errors import PassError
from dynapi_bench.interrupts import deferred

__all__ = ["PREFIX", "Stage", "locked", "staged"]

PREFIX = ".run-"
_ASIDE = ".replaced"  # inside the stage: the entries publishing replaced, deleted after


@dataclass
class Stage:
    """A command's staging folder ``path`` and the ``reports`` folder it publishes into."""

    reports: Path
    path: Path
    dropped: list[str] = field(default_factory=list)
    published: list[Path] = field(default_factory=list)

    def final(self, path: Path) -> Path:
        """Where ``path``, inside the stage, is once published (what to print and link to)."""
        return self.reports / path.relative_to(self.path)

    def drop(self, name: str) -> None:
        """Delete ``reports/<name>`` when publishing: an earlier run's file this one replaces by none."""
        self.dropped.append(name)

    def publish(self) -> list[Path]:
        """Move every entry of the stage into ``reports/``, replacing what is there, and delete
        the dropped ones; all under the lock on ``reports/``. Returns the published paths. Run it
        inside :func:`dynapi_bench.interrupts.committing`: a signal must not cut it in two."""
        aside = self.path / _ASIDE
        aside.mkdir(exist_ok=True)
        names = sorted(p.name for p in self.path.iterdir() if p.name != _ASIDE)
        with locked(self.reports):
            for name in names:
                new, old = self.path / name, self.reports / name
                if old.is_symlink() or (old.exists() and (new.is_dir() or old.is_dir())):
                    os.rename(old, aside / name)  # a folder cannot be renamed over another
                os.replace(new, old)
            for name in self.dropped:
                old = self.reports / name
                if old.is_symlink() or old.exists():
                    os.rename(old, aside / f"dropped-{name}")
        shutil.rmtree(aside)
        done = [self.reports / name for name in names]
        self.published += done
        return done


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``folder`` itself, held inside (waits for the holder)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def staged(reports: Path) -> Iterator[Stage]:
    """A fresh stage in ``reports/`` for one command; see the module docstring for its end."""
    made = not reports.exists()
    reports.mkdir(parents=True, exist_ok=True)
    reports = reports.resolve()
    path: Path | None = None
    stage: Stage | None = None
    hold, keep = -1, False
    try:
        # Locked: the sweep never sees a stage between its making and its lock. Deferred: a
        # signal does not cut the making in two (raised after it, it is cleaned up below).
        with deferred(), locked(reports):
            _sweep(reports)
            path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=reports))
            hold = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(hold, fcntl.LOCK_EX)
        stage = Stage(reports, path)
        yield stage
    except PassError:
        keep = True  # its message names a log in the stage
        raise
    finally:
        if hold >= 0:
            os.close(hold)
        if path is not None and not keep:
            shutil.rmtree(path, ignore_errors=True)
        if made and not (stage is not None and stage.published):
            with contextlib.suppress(OSError):
                reports.rmdir()  # only if empty: as it was, nothing


def _sweep(reports: Path) -> None:
    """Delete the stages no command holds any more: a failed one's logs, a killed one's leftovers."""
    for path in reports.glob(f"{PREFIX}*"):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a running command's
        else:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)
