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
from typing import Any, NoReturn

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
_STR, _SEQ, _MAP, _MERGE = (_CORE + name for name in ("str", "seq", "map", "merge"))
_PLAIN = "tag:dynapi,2026:plain"  # a plain scalar, resolved by the builder
_DROPPED = {_CORE + "timestamp", _CORE + "value"}  # implicit resolvers: dates and "=" stay strings
_OPEN: Any = object()  # a list or mapping being built (an alias to it is a cycle), or no value yet


class _Refused(Exception):
    """A rule broken at a node; ``parse`` makes it a ConfigError at the node's line."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1


class _Bomb(Exception):
    """Aliases expand the document too far, or into itself; ``_bomb_error`` says where."""


class _Composer(_Base):
    """PyYAML's C parser and composer, leaving plain scalars unresolved: the builder resolves
    each distinct text once (a config repeats its words), which is most of PyYAML's cost."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.1's implicit types without dates and ``=``: a date-like text stays a string."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (an instance variable in PyYAML's stubs)
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
        for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    }


_RESOLVER = _Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SCALARS: dict[str, Any] = {
    _CORE + "null": _CONSTRUCTOR.construct_yaml_null,
    _CORE + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _CORE + "int": _CONSTRUCTOR.construct_yaml_int,
    _CORE + "float": _CONSTRUCTOR.construct_yaml_float,
    _STR: lambda node: node.value,
    _MERGE: lambda node: node.value,  # a "<<" that is not a key is text
}


class _Builder:
    """Plain data from composed nodes, one pass: an alias is the node already built (so a bomb
    costs nothing to build); duplicate keys and tags beyond YAML's core are refused, and the
    size the data would have with every alias copied out is counted on the way."""

    def __init__(self) -> None:
        self.done: dict[yaml.Node, Any] = {}
        self.sizes: dict[int, int] = {}  # id of a built list or mapping -> its expanded size
        self.plain: dict[str, Any] = {}
        self.repeats = 0
        self.merged = 0

    def size(self, value: Any) -> int:
        return self.sizes.get(id(value), 1)

    def build(self, node: yaml.Node) -> Any:
        done = self.done
        if node in done:  # an alias: the same node again
            value = done[node]
            if value is _OPEN:
                raise _Bomb
            if type(value) is list or type(value) is dict:
                self.repeats += 1
            return value
        tag = node.tag
        if type(node) is yaml.ScalarNode:
            if tag == _PLAIN:
                text = node.value
                value = self.plain.get(text, _OPEN)
                if value is _OPEN:
                    resolved: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
                    value = self.plain[text] = _SCALARS[resolved](node)
            elif tag in _SCALARS:
                value = _SCALARS[tag](node)
            else:
                _refuse(node)
            done[node] = value
            return value
        done[node] = _OPEN
        if type(node) is yaml.SequenceNode:
            if tag != _SEQ:
                _refuse(node)
            items = [self.build(child) for child in node.value]
            self.sizes[id(items)] = 1 + sum(self.sizes.get(id(v), 1) for v in items)
            done[node] = items
            return items
        if tag != _MAP or not isinstance(node, yaml.MappingNode):
            _refuse(node)
        mapping = self.mapping(node)
        self.sizes[id(mapping)] = 1 + len(mapping) + sum(self.sizes.get(id(v), 1) for v in mapping.values())
        done[node] = mapping
        return mapping

    def mapping(self, node: yaml.MappingNode) -> dict[Any, Any]:
        explicit: dict[Any, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE or (key_node.tag == _PLAIN and key_node.value == "<<"):
                merges.append(value_node)
                continue
            key = self.build(key_node)
            try:
                seen = key in explicit
            except TypeError:
                raise _Refused("a key must be text or a number, not a list or mapping", key_node) from None
            if seen:
                first = next(k for k, _ in node.value if k is not key_node and self.done.get(k, _OPEN) == key)
                where = f"first at line {first.start_mark.line + 1}"
                raise _Refused(f"duplicate key {key!r} ({where}); keep one", key_node)
            explicit[key] = self.build(value_node)
        if not merges:
            return explicit
        merged: dict[Any, Any] = {}
        for value_node in merges:
            sources = value_node.value if type(value_node) is yaml.SequenceNode else [value_node]
            for source in sources:
                data = self.build(source)
                if type(data) is not dict:
                    raise _Refused("'<<' merges a mapping (or a list of mappings) only", source)
                for k, v in data.items():
                    merged.setdefault(k, v)
                self.merged += len(data)
                if self.merged > MAX_VALUES:
                    raise _Bomb
        merged.update(explicit)
        return merged


def _refuse(node: yaml.Node) -> NoReturn:
    """A tag that is not YAML's core; shows ``!!x`` for YAML's own tags, a local tag as written."""
    tag = "!!" + node.tag.removeprefix(_CORE) if node.tag.startswith(_CORE) else node.tag
    allowed = "only YAML's core types (null, bool, int, float, str, list, mapping) are"
    raise _Refused(f"tag {tag} is not allowed; {allowed}", node)


def measure(text: str) -> tuple[Any, int, int]:
    """The data of ``text``, the number of values it holds with every alias copied out, and the
    number of repeat references to a list or mapping (raises _Refused, _Bomb or a YAMLError)."""
    composer = _Composer(text)
    try:
        node = composer.get_single_node()
    finally:
        composer.dispose()
    if node is None:
        return None, 0, 0
    builder = _Builder()
    data = builder.build(node)
    return data, builder.size(data), builder.repeats


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
        data, values, repeats = measure(text)
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
