"""Callgrind's client requests from Python, and the spans a counted process marks with them.

A program run under ``valgrind --tool=callgrind --instr-atstart=no`` runs its start-up
(the imports, pytest's collection) uninstrumented, about 6x faster than counted; it asks
callgrind to count only around the measured code: start instrumentation (once), zero the
counts, run, dump them to a file of their own. Those requests are valgrind's stable client
request ABI (``valgrind.h``, ``callgrind.h``): a no-op instruction sequence that valgrind
recognises, with a pointer to the request in ``rax``. Python cannot emit it, so this module
maps the eleven instructions of valgrind.h's x86-64 request into executable memory and
calls them through ctypes; outside valgrind they do nothing and return 0. Other
architectures: :func:`supported` says no, and nothing is counted.

Loaded inside the measured processes: standard library only.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import json
import mmap
import os
import platform
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["Spans", "running_on_valgrind", "supported"]

# valgrind.h, __x86_64__: rol rdi by 3, 13, 61 and 51 (a no-op on any CPU), then
# xchg rbx, rbx: the request, read from the block rax points to; the result comes in rdx.
_X86_64 = bytes.fromhex(
    "4889f8"  # mov rax, rdi        the request block (the first argument)
    "31d2"  # xor edx, edx          the default result: 0 when not under valgrind
    "48c1c703"
    "48c1c70d"
    "48c1c73d"
    "48c1c733"  # rol rdi, 3 / 13 / 61 / 51
    "4887db"  # xchg rbx, rbx       the client request
    "4889d0"  # mov rax, rdx
    "c3"  # ret
)
_RUNNING_ON_VALGRIND = 0x1001
_CALLGRIND = (ord("C") << 24) | (ord("T") << 16)  # VG_USERREQ_TOOL_BASE('C','T')
_ZERO_STATS, _DUMP_STATS_AT, _START_INSTRUMENTATION = _CALLGRIND + 1, _CALLGRIND + 3, _CALLGRIND + 4


def supported() -> bool:
    """Whether this machine can send client requests from Python (x86-64 Linux)."""
    return platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64")


@functools.cache
def _requester() -> tuple[mmap.mmap, Callable[[Any], int]] | None:
    """The request as a C function in a page of its own (kept alive with it), once a process."""
    if not supported():
        return None
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(_X86_64)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    return page, ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t))(address)


def _send(code: int, arg: int = 0) -> int:
    found = _requester()
    if found is None:
        return 0
    block = (ctypes.c_size_t * 6)(code, arg, 0, 0, 0, 0)
    return int(found[1](block))


def running_on_valgrind() -> bool:
    """True inside a process that valgrind runs (RUNNING_ON_VALGRIND)."""
    return _send(_RUNNING_ON_VALGRIND) > 0


class Spans:
    """The counted spans of one process, in dump order, written at the end as JSON.

    ``count(fn, label)`` counts ``fn()`` alone: counts zeroed, the garbage collector off
    (as timeit does: a collection falls wherever an allocation count crosses a threshold, so
    one span would pay for another's garbage), ``fn()``, a dump. Instrumentation is switched
    on at the first span and stays on: switching it off and on again makes valgrind translate
    all the code again (a suite run 3x slower). Dump *k* (``OUT.k``) holds the span labelled *k*.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.labels: list[dict[str, Any]] = []

    def count(self, fn: Callable[[], Mapping[str, Any] | None], **label: Any) -> None:
        """Count one span of ``fn()``; ``label`` says what it was (row, kpi, items, iterations),
        and ``fn`` may add to it what only the run knows (a test's outcome)."""
        # Made before the counts are zeroed: a string buffer of a new size is a new ctypes type,
        # whose creation (about 20 k instructions) must not land in the span.
        name = ctypes.create_string_buffer(str(label.get("row", "span")).encode()[:255], 256)
        collecting = gc.isenabled()
        gc.disable()
        if not self.labels:
            _send(_START_INSTRUMENTATION)
        _send(_ZERO_STATS)
        found: Mapping[str, Any] | None = None
        try:
            found = fn()
        finally:
            _send(_DUMP_STATS_AT, ctypes.addressof(name))
            if collecting:
                gc.enable()
            self.labels.append({**label, **(found or {})})

    def save(self) -> None:
        """Write the labels (the harness pairs them with the dumps by order), atomically. Not
        through ``framework.files``: importing it imports the whole framework (500 modules)
        into a process whose counts should not depend on it."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "spans": self.labels}), encoding="utf-8")
        tmp.replace(self.path)
