"""Parse the version config's YAML into plain data, refusing what PyYAML's safe loader lets through.

``yaml.safe_load`` keeps the last of two equal keys without a word, turns ``2024-01-31`` into a
``datetime.date`` (which cannot be sent as JSON), accepts ``!!binary``, ``!!set`` and the like, and
loads an alias bomb ("billion laughs") in a blink as shared objects that explode only when the
data is later copied or serialised. Each is refused here with a one-line ``ConfigError`` naming
the file and line. The C parser stays in use, so a valid config parses about as fast as before.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import yaml

from framework.errors import ConfigError

try:
    from yaml import CSafeLoader as _Base
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _Base  # type: ignore[assignment]

__all__ = ["parse"]

MAX_VALUES = 200_000
"""Most values (keys, scalars, lists, mappings) a document may hold once every alias is copied out.
The Pets config has 2,987 (1,436 written once): this is 67 times that, a config of ~25,000 such lines."""
MAX_ALIASES = 10_000
"""Most repeat references to one list or mapping (aliases, merged values); the Pets config has 163."""

_CORE = "tag:yaml.org,2002:"
_ALLOWED = {_CORE + name for name in ("null", "bool", "int", "float", "str", "seq", "map")}
_STR, _MERGE = _CORE + "str", _CORE + "merge"
_DROPPED = {_CORE + "timestamp", _CORE + "value"}  # implicit resolvers: dates and "=" stay strings


class _Refused(Exception):
    """A rule broken at a node; ``parse`` makes it a ConfigError at the node's line."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1


class _Bomb(Exception):
    """Aliases expand the document too far, or into itself; ``_bomb_error`` says where."""


class _Loader(_Base):
    """PyYAML's safe loader without dates or extra tags, refusing duplicate keys."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (an instance variable in PyYAML's stubs)
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
        for first, resolvers in _Base.yaml_implicit_resolvers.items()
    }
    yaml_multi_constructors: ClassVar[dict[str | None, Any]] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._checked: set[yaml.Node] = set()
        self._merged = 0

    def _refuse_tag(self, node: yaml.Node) -> NoReturn:
        """The constructor of every tag not allowed; shows ``!!x`` for YAML's own tags."""
        tag = "!!" + node.tag.removeprefix(_CORE) if node.tag.startswith(_CORE) else node.tag
        allowed = "only YAML's core types (null, bool, int, float, str, list, mapping) are"
        raise _Refused(f"tag {tag} is not allowed; {allowed}", node)

    yaml_constructors: ClassVar[dict[str | None, Any]] = {
        tag: make for tag, make in _Base.yaml_constructors.items() if tag in _ALLOWED
    }
    yaml_constructors[_MERGE] = _Base.construct_yaml_str  # a "<<" that is not a key
    yaml_constructors[None] = _refuse_tag

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """Check the keys as written (once, before merges add theirs), then merge."""
        if node not in self._checked:
            self._checked.add(node)
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = key_node.value if key_node.tag == _STR else self.construct_object(key_node)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # unhashable: construct_mapping reports it
                    continue
                if first is not key_node:
                    where = f"first at line {first.start_mark.line + 1}"
                    raise _Refused(f"duplicate key {key!r} ({where}); keep one", key_node)
        before = len(node.value)
        super().flatten_mapping(node)
        self._merged += len(node.value) - before
        if self._merged > MAX_VALUES:  # PyYAML < 6.0.2 copies merged pairs level after level
            raise _Bomb


def _expanded(data: Any) -> tuple[int, int]:
    """Values in ``data`` counting each alias as a copy, and the repeat references to lists and
    mappings; one walk over the distinct objects. Raises _Bomb on a cycle."""
    sizes: dict[int, int] = {}  # id -> expanded size; 0 while its children are walked
    repeats = 0

    def size(obj: list[Any] | dict[Any, Any]) -> int:
        nonlocal repeats
        known = sizes.get(id(obj))
        if known is not None:
            if not known:
                raise _Bomb
            repeats += 1
            return known
        sizes[id(obj)] = 0
        n, children = (1 + len(obj), obj.values()) if isinstance(obj, dict) else (1, obj)
        for child in children:
            n += size(child) if isinstance(child, list | dict) else 1
        sizes[id(obj)] = n
        return n

    return size(data) if isinstance(data, list | dict) else 1, repeats


def _bomb_error(text: str, values: int, repeats: int, file: str) -> ConfigError:
    """Re-read ``text`` as events to name the anchor whose aliases add most (or that holds itself)."""
    done: dict[str, tuple[int, int]] = {}  # anchor -> (line, size) of its latest definition
    added: dict[tuple[str, int], list[int]] = {}  # (anchor, line) -> [values its aliases add, uses]
    stack: list[list[Any]] = [[None, 0, 0]]  # [anchor, line, size] of each open list or mapping
    for event in yaml.parse(text, Loader=_Base):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, line, 1])
            continue
        if isinstance(event, yaml.AliasEvent) and event.anchor is not None:
            for anchor, at, _ in reversed(stack):
                if anchor == event.anchor:
                    message = f"anchor &{anchor} contains an alias to itself; a config cannot be recursive"
                    return ConfigError(message, file=file, line=at)
            line, size = done[event.anchor]
            counts = added.setdefault((event.anchor, line), [0, 0])
            counts[0] += size
            counts[1] += size > 1  # the aliases counted against MAX_ALIASES
            stack[-1][2] += size
            continue
        if isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, line, size = stack.pop()
        else:
            continue
        stack[-1][2] += size
        if anchor is not None:
            done[anchor] = (line, size)
    if not added:
        return ConfigError(f"{values:,} values (limit {MAX_VALUES:,}); is it the right file?", file=file)
    if values > MAX_VALUES:
        (anchor, line), (n, _) = max(added.items(), key=lambda item: item[1][0])
        message = f"anchor &{anchor} expands to {n:,} values (limit {MAX_VALUES:,}); an alias bomb?"
        return ConfigError(f"{message} reference it fewer times or nest fewer aliases", file=file, line=line)
    (anchor, line), (_, uses) = max(added.items(), key=lambda item: item[1][1])
    message = f"{repeats:,} aliases (limit {MAX_ALIASES:,}), {uses:,} of them to anchor &{anchor}; an alias bomb?"
    return ConfigError(f"{message} reference it fewer times", file=file, line=line)


def _hint(text: str, line: int | None) -> str:
    """A path with ``{parameters}`` inside a ``{...}`` mapping must be quoted: say so where it is."""
    lines = text.splitlines()
    if line is None or not 0 < line <= len(lines) or not re.search(r"\{.*/\{\w+\}", lines[line - 1]):
        return ""
    return "; inside { } quote a path with {parameters}: item: '/pets/{id}'"


def parse(text: str, path: Path) -> Any:
    """The YAML document in ``text`` as plain Python data (dict, list, str, int, float, bool, None);
    raises ConfigError naming ``path`` and the line."""
    try:
        data = yaml.load(text, Loader=_Loader)
        values, repeats = _expanded(data)
    except _Refused as exc:
        raise ConfigError(str(exc), file=str(path), line=exc.line) from None
    except _Bomb:
        values, repeats = MAX_VALUES + 1, 0
    except RecursionError:
        raise ConfigError("lists and mappings nested too deeply; is it the right file?", file=str(path)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        hint = _hint(text, line)
        raise ConfigError(f"not valid YAML: {exc.problem}{hint}", file=str(path), line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=str(path)) from None
    if values > MAX_VALUES or repeats > MAX_ALIASES:
        raise _bomb_error(text, values, repeats, str(path))
    return data
