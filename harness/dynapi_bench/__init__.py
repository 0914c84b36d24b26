"""The benchmark side: thresholds, results, the regression checker, reports and the runner.

Needs the ``bench`` extra (pandas, scipy, matplotlib, Jinja2, memray, pyinstrument,
pytest-benchmark); the test framework itself does not import this package.
"""

from __future__ import annotations

__all__: list[str] = []
