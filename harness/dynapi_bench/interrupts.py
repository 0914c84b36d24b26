"""SIGINT and SIGTERM as one exception in the main thread, so that every ``finally`` runs.

Inside :func:`handling` (the command line's whole life), either signal first calls
``on_signal`` (which stops the children, :func:`dynapi_bench.children.stop`) and then raises
:class:`Interrupted` in the main thread: staging folders, half-made worktrees and
environments are removed on the way out, and the command exits 128 + the signal's number
(130, 143), the shell's convention. A section that must not be cut in two (publishing the
reports, starting a child) runs :func:`deferred`: a signal that arrives meanwhile takes
effect when it ends. Only the first signal counts: a second Ctrl-C does not cut the
clean-up the first one started.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

__all__ = ["SIGNALS", "Interrupted", "committing", "deferred", "handling"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A SIGINT or SIGTERM ended the command. A ``BaseException``, like ``KeyboardInterrupt``:
    no ``except Exception`` on the way swallows it."""

    def __init__(self, signum: int, *, committed: bool = False) -> None:
        self.signum = signum
        self.committed = committed  # the command had published its reports when it came
        super().__init__(self.message)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a command a signal ended."""
        return 128 + self.signum

    @property
    def message(self) -> str:
        """The one line the command prints on stderr."""
        if self.committed:
            return f"interrupted ({self.name}) after publishing: the reports and baseline it saved are whole"
        return f"interrupted ({self.name}): previous reports kept; nothing saved"


def _nothing() -> None:
    return None


@dataclass
class _State:
    """What the handler knows: whom to tell, and whether it must wait or has already raised."""

    on_signal: Callable[[], None] = _nothing
    deferring: int = 0  # nesting depth of deferred() in the main thread
    caught: int | None = None  # the first signal; later ones are ignored
    pending: int | None = None  # caught while deferring: raised when the section ends
    committed: bool = False


_state = _State()


def _reset(on_signal: Callable[[], None] = _nothing) -> None:
    """A fresh state, for each command: nothing caught, nothing deferred."""
    vars(_state).update(vars(_State(on_signal)))


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state.caught is not None:
        return  # the clean-up the first signal started runs to its end
    _state.caught = signum
    if _state.deferring:
        _state.pending = signum
        return
    _state.on_signal()
    raise Interrupted(signum, committed=_state.committed)


@contextmanager
def handling(on_signal: Callable[[], None] = _nothing) -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread while inside, after
    ``on_signal()``. A signal that whoever started us ignores stays ignored (a background
    job's SIGINT). Call from the main thread; the previous handlers come back on the way out."""
    previous = {}
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _handler)
    _reset(on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _reset()


@contextmanager
def deferred() -> Iterator[None]:
    """A section a signal does not cut: one that arrives inside takes effect as it ends
    (``on_signal`` runs, then :class:`Interrupted` is raised). Only the main thread needs
    it: Python runs signal handlers there alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1
        if not _state.deferring and _state.pending is not None:
            signum, _state.pending = _state.pending, None
            _state.on_signal()
            raise Interrupted(signum, committed=_state.committed)


@contextmanager
def committing() -> Iterator[None]:
    """The command's commit (publishing its reports, saving a baseline): :func:`deferred`,
    and once it is done an interruption says that what it saved is whole."""
    with deferred():
        yield
        _state.committed = True
