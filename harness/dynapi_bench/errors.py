"""The harness's exceptions and the exit codes of its commands, named once.

Every message is one line that names the file or option, the place, and the fix::

    BenchError                 any input the harness cannot use (exit 2)
     +-- ResultsError          a results or baseline file: missing, corrupt, duplicated rows
     +-- ThresholdsError       thresholds.yaml: not YAML, or breaks its format
     +-- WorktreeError         --against REF: unknown, without benchmarks, not installable
     +-- PassError             a measuring process failed; the message names its log
"""

from __future__ import annotations

import enum

__all__ = ["BenchError", "ExitCode", "PassError", "ResultsError", "ThresholdsError", "WorktreeError"]


class ExitCode(enum.IntEnum):
    """0: every KPI holds; 1: a KPI crossed its threshold or its reference; 2: unusable input."""

    OK = 0
    REGRESSION = 1
    BAD_INPUT = 2


class BenchError(Exception):
    """Input the harness cannot use; the message says what, where and how to fix it."""


class ResultsError(BenchError):
    """A results or baseline file is missing, truncated, malformed or ambiguous."""


class ThresholdsError(BenchError):
    """The thresholds file is missing, not YAML, or breaks its format."""


class WorktreeError(BenchError):
    """The ref cannot be compared against: unknown, without benchmarks, or not installable."""


class PassError(BenchError):
    """A measuring process failed or measured nothing; the message names its log."""
