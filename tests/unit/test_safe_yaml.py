"""Tests of framework.config.safe_yaml: duplicate keys, tags, dates and alias bombs, each refused
with one exact line naming the file and line; the project's own config parses as PyYAML reads it."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
import yaml.constructor

from framework.config import safe_yaml
from framework.config.safe_yaml import parse
from framework.errors import ConfigError

PATH = Path("version_config.yaml")
CONFIG = Path(__file__).parents[1] / "config" / "version_config.yaml"
BOMB_TAIL = "an alias bomb? reference it fewer times or nest fewer aliases"
CORE_ONLY = "only YAML's core types (null, bool, int, float, str, list, mapping) are"


def error(text: str, path: Path = PATH) -> str:
    """The one-line message ``parse`` raises for ``text``."""
    with pytest.raises(ConfigError) as info:
        parse(textwrap.dedent(text), path)
    return str(info.value)


def lol_levels(per_level: int, indent: str = "", item: str = "lol{n}: ") -> list[str]:
    """The classic alias bomb: 9 anchored lists, each holding ``per_level`` aliases of the one before."""
    lines = [f"{indent}{item.format(n=1)}&lol1 [{', '.join(['lol'] * per_level)}]"]
    for n in range(2, 10):
        lines.append(f"{indent}{item.format(n=n)}&lol{n} [{', '.join([f'*lol{n - 1}'] * per_level)}]")
    return lines


def test_duplicate_top_level_key_names_both_lines() -> None:
    text = """\
        global_settings:
          default_timeout: 5.0
        base_url: /api
        versions: {}
        base_url: /api/v2
        """
    assert error(text) == "version_config.yaml:5: duplicate key 'base_url' (first at line 3); keep one"


def test_second_version_block_is_a_duplicate() -> None:
    text = """\
        versions:
          v1:
            base_url: /api/v1
          v2:
            base_url: /api/v2
          v1:
            base_url: /api/v1b
        """
    assert error(text) == "version_config.yaml:6: duplicate key 'v1' (first at line 2); keep one"


def test_duplicate_inside_a_flow_mapping() -> None:
    text = "pet:\n  base_data: {species: dog, age: 3, species: cat}\n"
    assert error(text) == "version_config.yaml:2: duplicate key 'species' (first at line 2); keep one"


def test_equal_keys_of_other_types_are_duplicates() -> None:
    assert error("1: one\n0x1: also one\n") == "version_config.yaml:2: duplicate key 1 (first at line 1); keep one"


def test_merge_key_overridden_explicitly_is_allowed() -> None:
    text = """\
        base: &base {type: string, minLength: 1, maxLength: 100}
        name:
          <<: *base
          maxLength: 60
        """
    assert parse(textwrap.dedent(text), PATH) == {
        "base": {"type": "string", "minLength": 1, "maxLength": 100},
        "name": {"type": "string", "minLength": 1, "maxLength": 60},
    }


def test_merged_anchor_with_its_own_merge_is_still_allowed() -> None:
    # multi-letter keys: PyYAML 6.0.4 loses nested overrides of one-letter keys (its merge dedupe
    # compares id() of the key strings, and CPython shares one-letter strings)
    text = """\
        a: &a {xx: 1, yy: 1}
        b: &b {<<: *a, yy: 2}
        top: {c: &c {<<: *b, xx: 3}}
        d: {<<: *c, zz: 4}
        """
    assert parse(textwrap.dedent(text), PATH)["d"] == {"xx": 3, "yy": 2, "zz": 4}


def test_a_mapping_flattened_by_a_merge_is_not_checked_again_when_aliased() -> None:
    text = """\
        first:
          <<: &defaults
            <<: &base
              source: staging.orders
            source: production.orders
        second: *defaults
        """
    assert parse(textwrap.dedent(text), PATH) == {
        "first": {"source": "production.orders"},
        "second": {"source": "production.orders"},
    }


def test_two_merge_keys_in_one_mapping_are_allowed_as_pyyaml_does() -> None:
    text = "a: &a {xx: 1}\nb: &b {yy: 2}\nc:\n  <<: *a\n  <<: *b\n"
    assert parse(text, PATH)["c"] == {"xx": 1, "yy": 2}


def test_two_explicit_keys_are_a_duplicate_even_with_a_merge() -> None:
    text = """\
        base: &base {type: string, maxLength: 100}
        name:
          <<: *base
          maxLength: 60
          maxLength: 80
        """
    assert error(text) == "version_config.yaml:5: duplicate key 'maxLength' (first at line 4); keep one"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("!!python/object:os.system {}", "!!python/object:os.system"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!!python/object/apply:os.system [ls]", "!!python/object/apply:os.system"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!set {a, b}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
        ("!!pairs [a: 1]", "!!pairs"),
        ("!!timestamp 2024-01-31", "!!timestamp"),
        ("!Ref Pet", "!Ref"),
        ("!<tag:example.com,2024:thing> x", "tag:example.com,2024:thing"),
    ],
)
def test_tags_other_than_the_core_types_are_refused(value: str, shown: str) -> None:
    assert error(f"a: 1\nb: {value}\n") == f"version_config.yaml:2: tag {shown} is not allowed; {CORE_ONLY}"


def test_core_tags_written_out_are_allowed() -> None:
    text = "a: !!str 2024-01-31\nb: !!int '7'\nc: !!float 1\nd: !!bool yes\ne: !!null ''\nf: !!seq [1]\ng: !!map {}\n"
    assert parse(text, PATH) == {"a": "2024-01-31", "b": 7, "c": 1.0, "d": True, "e": None, "f": [1], "g": {}}


def test_date_like_plain_scalars_stay_strings() -> None:
    text = "date: 2024-01-31\nat: 2024-01-31T10:00:00Z\nspaced: 2024-01-31 10:00:00\nop: =\nmerge_word: <<\n"
    data = parse(text, PATH)
    assert data == {
        "date": "2024-01-31",
        "at": "2024-01-31T10:00:00Z",
        "spaced": "2024-01-31 10:00:00",
        "op": "=",
        "merge_word": "<<",
    }
    assert all(type(v) is str for v in data.values())
    # PyYAML's own loaders are untouched: they still make a date
    assert yaml.load("d: 2024-01-31", Loader=yaml.CSafeLoader) == {"d": datetime.date(2024, 1, 31)}


def test_the_c_composer_asks_python_to_resolve_so_the_builder_can() -> None:
    assert safe_yaml._Composer.__mro__[1] is yaml.CSafeLoader
    assert yaml.CSafeLoader.resolve is yaml.resolver.Resolver.resolve


@pytest.mark.parametrize(
    ("per_level", "expands_to"),
    [(9, "435,848,049"), (10, "1,111,111,110")],
)
def test_classic_alias_bomb_is_refused_naming_the_anchor(per_level: int, expands_to: str) -> None:
    text = "\n".join(lol_levels(per_level)) + "\n"
    assert (
        error(text)
        == f"version_config.yaml:8: anchor &lol8 expands to {expands_to} values (limit 200,000); {BOMB_TAIL}"
    )


def test_alias_bomb_under_base_data_of_the_project_config() -> None:
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("    base_data: {species: dog"))
    bomb = ["    base_data:", "      species: dog", "      x:", *lol_levels(9, indent="        ", item="- ")]
    text = "\n".join(lines[:at] + bomb + lines[at + 1 :]) + "\n"
    with pytest.raises(ConfigError) as info:
        parse(text, CONFIG)
    lol8_line = at + 1 + 10  # base_data, species, x:, then lol1 .. lol8
    assert (
        str(info.value)
        == f"{CONFIG}:{lol8_line}: anchor &lol8 expands to 435,848,049 values (limit 200,000); {BOMB_TAIL}"
    )
    assert (info.value.file, info.value.line) == (str(CONFIG), lol8_line)


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a [x]\nb: [" + ", ".join(["*a"] * 10_001) + "]\n"
    assert error(text) == (
        "version_config.yaml:1: 10,001 aliases (limit 10,000), 10,001 of them to anchor &a; "
        "an alias bomb? reference it fewer times"
    )


def test_an_anchor_holding_itself_is_refused() -> None:
    text = "a: 1\nb: &b\n  x: 1\n  y: [2, *b]\n"
    assert error(text) == "version_config.yaml:2: anchor &b contains an alias to itself; a config cannot be recursive"


def test_a_huge_document_without_aliases_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_yaml, "MAX_VALUES", 1_000)
    text = "b: [" + ", ".join(["1"] * 1_000) + "]\n"
    assert error(text) == "version_config.yaml: 1,003 values (limit 1,000); is it the right file?"


def test_nesting_deeper_than_the_walk_can_go_is_refused() -> None:
    assert (
        error("[" * 1000 + "]" * 1000)
        == "version_config.yaml: lists and mappings nested too deeply; is it the right file?"
    )


def test_merges_copy_no_pair_twice_so_a_merge_bomb_stays_small() -> None:
    """Merged keys are de-duplicated as they are merged (older PyYAML copied every pair of
    every level, 9 levels of 9 merges ran for minutes): the nine levels hold three keys each."""
    lines = ["m0: &m0 {k0: 0, k1: 1, k2: 2}"]
    lines += [f"m{n}: &m{n} {{<<: [{', '.join([f'*m{n - 1}'] * 9)}]}}" for n in range(1, 10)]
    data, values, _ = safe_yaml.measure("\n".join(lines) + "\n")
    assert data["m9"] == {"k0": 0, "k1": 1, "k2": 2}
    assert values < 200


def test_nested_merges_with_one_letter_keys() -> None:
    """PyYAML 6.0.4 gives c = {x: 3, y: 1} here (it compares one-letter keys by identity)."""
    data = parse("a: &a {x: 1, y: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, x: 3}\n", PATH)
    assert data["c"] == {"x": 3, "y": 2}


def test_expanded_size_counts_every_alias_as_a_copy() -> None:
    _, values, repeats = safe_yaml.measure("a: &a [1, 2]\nb: {c: *a, d: [*a, *a]}\n")
    # root + 2 keys; a: list + 2; b: mapping + 2 keys + a + (list + a + a)
    assert (values, repeats) == (1 + 2 + 3 + (1 + 2 + 3 + (1 + 3 + 3)), 3)


def test_invalid_yaml_keeps_its_message_shape() -> None:
    assert error("a: 1\nb: [1, 2\nc: 3\n") == "version_config.yaml:3: not valid YAML: did not find expected ',' or ']'"
    assert error("a: 1\n---\nb: 2\n") == "version_config.yaml:2: not valid YAML: but found another document"


def test_empty_document_is_none() -> None:
    assert parse("# nothing but a comment\n", PATH) is None
    assert parse("", PATH) is None


def test_project_config_parses_as_pyyaml_reads_it() -> None:
    text = CONFIG.read_text(encoding="utf-8")
    assert parse(text, CONFIG) == yaml.load(text, Loader=yaml.CSafeLoader)


def test_project_config_is_far_below_the_limits() -> None:
    def copied(obj: Any) -> int:
        if isinstance(obj, dict):
            return 1 + len(obj) + sum(copied(v) for v in obj.values())
        return 1 + sum(copied(v) for v in obj) if isinstance(obj, list) else 1

    data, values, aliases = safe_yaml.measure(CONFIG.read_text(encoding="utf-8"))
    assert values == copied(data)
    assert values * 20 < safe_yaml.MAX_VALUES
    assert aliases * 20 < safe_yaml.MAX_ALIASES
