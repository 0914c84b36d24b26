"""Tests of dynapi_bench.interrupts: SIGINT and SIGTERM as one exception in the main thread.

The signals are real (``signal.raise_signal``), sent to this process while a handler is installed.
"""

from __future__ import annotations

import signal
import threading

import pytest

from dynapi_bench.interrupts import Interrupted, committing, deferred, handling


@pytest.fixture(autouse=True)
def main_thread() -> None:
    """Python runs signal handlers in the main thread only: so must these tests."""
    assert threading.current_thread() is threading.main_thread()


@pytest.mark.parametrize(("signum", "code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_either_signal_raises_interrupted_after_on_signal(signum: int, code: int, name: str) -> None:
    calls: list[str] = []
    with pytest.raises(Interrupted) as caught, handling(on_signal=lambda: calls.append("stop")):
        signal.raise_signal(signum)
    assert calls == ["stop"]
    assert caught.value.exit_code == code
    assert caught.value.message == f"interrupted ({name}): previous reports kept; nothing saved"
    assert not isinstance(caught.value, Exception)  # no `except Exception` swallows it


def test_the_previous_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with handling():
        assert signal.getsignal(signal.SIGTERM) is not before[0]
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def cleaning_up(events: list[str]) -> None:
    try:
        signal.raise_signal(signal.SIGINT)
        events.append("not reached")
    finally:
        signal.raise_signal(signal.SIGTERM)  # impatient: a second signal during the clean-up
        events.append("cleaned up")


def test_only_the_first_signal_counts_so_the_clean_up_finishes() -> None:
    events: list[str] = []
    with pytest.raises(Interrupted) as caught, handling(on_signal=lambda: events.append("stop")):
        cleaning_up(events)
    assert events == ["stop", "cleaned up"]
    assert caught.value.name == "SIGINT"


def section(events: list[str]) -> None:
    with deferred():
        signal.raise_signal(signal.SIGTERM)
        events.append("section finished")


def test_a_signal_inside_a_deferred_section_takes_effect_as_it_ends() -> None:
    events: list[str] = []
    with pytest.raises(Interrupted) as caught, handling(on_signal=lambda: events.append("stop")):
        section(events)
    assert events == ["section finished", "stop"]
    assert caught.value.name == "SIGTERM"


def commit_then_signal(events: list[str]) -> None:
    with committing():
        events.append("published")
    signal.raise_signal(signal.SIGINT)


def test_after_the_commit_the_message_says_what_was_saved_is_whole() -> None:
    events: list[str] = []
    with pytest.raises(Interrupted) as caught, handling():
        commit_then_signal(events)
    assert events == ["published"]
    assert caught.value.exit_code == 130
    assert caught.value.message == "interrupted (SIGINT) after publishing: the reports and baseline it saved are whole"


def both_signals() -> None:
    signal.raise_signal(signal.SIGINT)
    signal.raise_signal(signal.SIGTERM)


def test_a_signal_ignored_by_whoever_started_us_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as for a background job
    try:
        with pytest.raises(Interrupted) as caught, handling():
            both_signals()  # the SIGINT does nothing
        assert caught.value.name == "SIGTERM"
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_deferred_section_outside_the_main_thread_changes_nothing() -> None:
    done: list[bool] = []

    def worker() -> None:
        with deferred():
            done.append(True)

    with handling():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(timeout=30)
        with pytest.raises(Interrupted):
            signal.raise_signal(signal.SIGTERM)  # not deferred: the worker's section was its own
    assert done == [True]
