"""One YAML loader for every declaration kypho reads: schemas, plans, audit files.

YAML is read with PyYAML's safe loader (no ``!!python`` tags) and within limits,
so that a small hostile file cannot exhaust memory or the stack:

* at most :data:`MAX_BYTES` bytes of UTF-8 text (a byte-order mark is accepted);
* nesting at most :data:`MAX_DEPTH` levels deep;
* at most :data:`MAX_NODES` values once anchors and aliases are expanded. A
  "billion laughs" file (a few hundred bytes whose aliases expand to 10⁹ values)
  is refused while it is being composed, before anything is built from it.

Anchors and aliases themselves are allowed (kypho's own audit file uses them to
repeat a row's layout). Each failure raises the error class the caller names
(``SchemaError`` for schemas, ``AnalysisError`` for plans, ``AuditError`` for
audit files), with the file and what was wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode

from kypho.errors import KyphoError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "load_own_yaml",
    "load_yaml",
    "read_yaml_file",
]

#: Largest declaration file read, in bytes (kypho's own are under 40 kB).
MAX_BYTES = 1_000_000
#: Deepest nesting of mappings and lists (kypho's own files nest 5 deep).
MAX_DEPTH = 40
#: Most values (scalars, lists, mappings) after anchors and aliases are expanded.
MAX_NODES = 200_000


class _LimitExceeded(Exception):
    """Raised inside the composer; turned into the caller's error by :func:`load_yaml`."""


class _LimitedLoader(yaml.SafeLoader):
    """The safe loader with a depth and an expanded-size count on the composed nodes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            node = Composer.compose_node(self, parent, index)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise _LimitExceeded(f"nested more than {MAX_DEPTH} levels deep (line {mark.line + 1})")
        try:
            node = Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._size(node)
        return node

    def _size(self, node: Node) -> int:
        """Values under ``node``, aliases counted as often as they are used."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(self._sizes.get(id(child), 1) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(
                self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value
            )
        if total > MAX_NODES:
            raise _LimitExceeded(
                f"more than {MAX_NODES:,} values once its anchors and aliases are expanded "
                f"(line {node.start_mark.line + 1}); a declaration file is far smaller"
            )
        self._sizes[id(node)] = total
        return total


def load_yaml(text: str | bytes, source: str, error: type[KyphoError]) -> Any:
    """Parse one YAML document safely and within kypho's limits.

    Parameters
    ----------
    text
        The document, as text or as UTF-8 bytes.
    source
        What to call it in messages (usually the file name).
    error
        The :class:`~kypho.errors.KyphoError` subclass to raise.

    Returns
    -------
    object
        The parsed document (``None`` for an empty one).

    Raises
    ------
    KyphoError
        Of class ``error``, naming ``source`` and what is wrong: not UTF-8, too
        large, too deep, too many values after alias expansion, or not valid YAML.

    Examples
    --------
    >>> from kypho.errors import SchemaError
    >>> load_yaml("a: &x [1, 2]\\nb: *x\\n", "example", SchemaError)
    {'a': [1, 2], 'b': [1, 2]}
    >>> load_yaml("[" * 100, "deep.yaml", SchemaError)
    Traceback (most recent call last):
    ...
    kypho.errors.SchemaError: deep.yaml: cannot read this YAML: nested more than 40 levels deep (line 1)
    """
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise error(_too_large(source, len(text)))
        text = _decode(text, source, error)
    elif len(text) > MAX_BYTES:
        raise error(_too_large(source, len(text.encode("utf-8", "surrogatepass"))))
    loader = _LimitedLoader(text)
    try:
        return loader.get_single_data()
    except _LimitExceeded as exc:
        raise error(f"{source}: cannot read this YAML: {exc}") from None
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML ({exc})") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # e.g. an integer of more than 4300 digits, or a timestamp PyYAML cannot build
        raise error(f"{source}: not valid YAML ({exc})") from None
    finally:
        loader.dispose()


def load_own_yaml(text: str, source: str, error: type[KyphoError]) -> Any:
    """Parse one of kypho's own declaration files (shipped with it, not a user's).

    The same document as :func:`load_yaml` gives (a test compares them for every
    file in ``kypho/data``), parsed by libyaml's safe loader (C) when PyYAML has
    it: kypho's schema in ~8 ms instead of ~70 ms, on every command that opens
    the store. The limits of :func:`load_yaml` guard against hostile files; a
    file that is part of kypho is not one. Without libyaml, :func:`load_yaml`.
    """
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return load_yaml(text, source, error)
    try:
        return yaml.load(text, Loader=loader)  # the safe loader, in C
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML ({exc})") from None


def read_yaml_file(path: Path, what: str, error: type[KyphoError]) -> Any:
    """Read and parse a YAML file; ``what`` names it ("schema file", "analysis plan").

    Raises ``error`` when the file cannot be read, is larger than
    :data:`MAX_BYTES`, is not UTF-8, or is not valid YAML within the limits.
    """
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise error(_too_large(str(path), size))
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from exc
    return load_yaml(data, str(path), error)


def _too_large(source: str, size: int) -> str:
    return (
        f"{source}: {size:,} bytes is more than kypho reads as a declaration file "
        f"({MAX_BYTES:,} bytes)"
    )


def _decode(data: bytes, source: str, error: type[KyphoError]) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"{source}: not UTF-8 text (byte {exc.start}, line {line}); save the file as UTF-8"
        ) from None
