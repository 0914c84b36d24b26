"""Tests of dynapi_bench.thresholds: the rules as data, and one line per problem in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynapi_bench.errors import ThresholdsError
from dynapi_bench.thresholds import KpiRule, LargeChange, load_thresholds

RULE = "kpis:\n  config_load: {unit: ms, target: 1, threshold: 2, allowed_change: 0.1}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return path


def error(path: Path) -> str:
    with pytest.raises(ThresholdsError) as caught:
        load_thresholds(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_project_thresholds_load(thresholds_file: Path) -> None:
    t = load_thresholds(thresholds_file)
    assert t.alpha == 0.01
    assert t.large_change == LargeChange(kpi=1.6, case=2.2)  # the defaults
    assert t.kpis["data_generation"] == KpiRule(
        name="data_generation", unit="ms", target=1.0, threshold=5.0, goal=0.005, allowed_change=0.10
    )


def test_large_change_factors(tmp_path: Path) -> None:
    t = load_thresholds(write(tmp_path, "large_change: {kpi: 1.4, case: 3}\n" + RULE))
    assert t.large_change == LargeChange(kpi=1.4, case=3)
    assert load_thresholds(write(tmp_path, "large_change: {case: 2}\n" + RULE)).large_change == LargeChange(1.6, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("large_change: {kpi: 1}\n", "large_change.kpi: expected a factor above 1 (1.6 = +60%), got 1"),
        ("large_change: {case: 0.5}\n", "large_change.case: expected a factor above 1 (1.6 = +60%), got 0.5"),
        ("large_change: {kpi: fast}\n", "large_change.kpi: expected a factor above 1 (1.6 = +60%), got 'fast'"),
        ("large_change: {kpi: true}\n", "large_change.kpi: expected a factor above 1 (1.6 = +60%), got True"),
        (
            "large_change: {kpi: 1.6, rows: 2}\n",
            "large_change: expected a mapping with 'kpi' and 'case' factors, got {'kpi': 1.6, 'rows': 2}",
        ),
        ("large_change: 2\n", "large_change: expected a mapping with 'kpi' and 'case' factors, got 2"),
    ],
    ids=["one", "below-one", "text", "bool", "unknown-key", "not-a-mapping"],
)
def test_bad_large_change(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text + RULE)
    assert error(path) == f"{path}: {expected}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "kpis:\n  config_load: {unit: parsecs, target: 1, threshold: 2, allowed_change: 0.1}\n",
            "kpis.config_load.unit: unknown unit 'parsecs'; use one of ns, us, ms, s, B, KB, MB, KiB, MiB, instructions, k instructions, "
            "M instructions, x",
        ),
        (
            "kpis:\n  config_load: {unit: ms, target: -1, threshold: 2, allowed_change: 0.1}\n",
            "kpis.config_load.target: expected a number >= 0, got -1",
        ),
        (
            "kpis:\n  config_load: {unit: ms, target: 1, threshold: 2}\n",
            "kpis.config_load.allowed_change: expected a number >= 0, got None",
        ),
        (
            "kpis:\n  config_load: {unit: ms, target: 1, threshold: 2, allowed_change: 0.1, ab_allowed_change: -1}\n",
            "kpis.config_load.ab_allowed_change: expected a number >= 0, got -1",
        ),
        (
            "kpis:\n  config_load: {unit: ms, target: 1, threshold: 2, allowed_change: 0.1, goal: x}\n",
            "kpis.config_load.goal: expected a number >= 0, got 'x'",
        ),
        (
            "kpis:\n  config_load: {unit: ms, target: 3, threshold: 2, allowed_change: 0.1}\n",
            "kpis.config_load: target 3 is above threshold 2; swap them",
        ),
        (
            "kpis:\n  config_load: 5\n",
            "kpis.config_load: expected a mapping with unit, target, threshold, allowed_change",
        ),
        ("alpha: 2\nkpis: {}\n", "expected a mapping with 'alpha' and 'kpis: {name: rule}'"),
        ("alpha: 2\n" + RULE, "alpha: expected a number between 0 and 1, got 2"),
    ],
    ids=[
        "unknown-unit",
        "negative",
        "no-allowed-change",
        "ab-allowed-change",
        "goal",
        "target-above-threshold",
        "rule-not-a-mapping",
        "empty",
        "bad-alpha",
    ],
)
def test_bad_rules(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert error(path) == f"{path}: {expected}"


def test_unknown_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "colour: red\n" + RULE)
    assert error(path) == f"{path}: unknown keys ['colour']; expected ['alpha', 'kpis', 'large_change']"
    path = write(
        tmp_path, "kpis:\n  config_load: {unit: ms, target: 1, threshold: 2, allowed_change: 0.1, colour: red}\n"
    )
    assert error(path) == (
        f"{path}: kpis.config_load: unknown keys ['colour']; expected ['ab_allowed_change', 'allowed_change', "
        "'contender', 'description', 'goal', 'target', 'threshold', 'unit']"
    )


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("kpis: [\n", "2:1", "expected the node content, but found '<stream end>' (while parsing a flow node)"),
        (
            "kpis:\n  a: {unit: ms\n  b: 2\n",
            "3:4",
            "expected ',' or '}', but got ':' (while parsing a flow mapping)",
        ),
        (
            "alpha: 0.01\nkpis:\n\tconfig_load: 1\n",
            "3:1",
            "found character '\\t' that cannot start any token (while scanning for the next token)",
        ),
    ],
    ids=["unclosed", "flow-mapping", "tab"],
)
def test_yaml_errors_name_line_and_column(tmp_path: Path, text: str, where: str, problem: str) -> None:
    path = write(tmp_path, text)
    assert error(path) == f"{path}:{where}: not valid YAML: {problem}; fix the YAML there"


def test_missing_file(tmp_path: Path) -> None:
    assert error(tmp_path / "none.yaml") == f"{tmp_path / 'none.yaml'}: not found; pass --thresholds PATH"
