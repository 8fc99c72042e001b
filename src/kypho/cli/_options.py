"""Options every ``kypho`` command spells the same way.

* ``--out`` names what a command writes (a file or a folder); older spellings
  (``--output``) still work but are not shown in ``--help``.
* ``--schema FILE`` (repeatable) names the study: a whole schema (a file that
  declares ``id_column`` and ``group_column``) or an extension of the built-in
  one; the older ``--extension FILE`` still works, hidden.
* ``--quiet/-q`` and ``--verbose/-v`` are accepted by every command (added by
  the command group, see :func:`add_verbosity`): quiet hides progress lines and
  warnings on stderr (errors are still printed); verbose adds, to an error, the
  underlying cause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from kypho.schema import Schema

__all__ = [
    "AliasOption",
    "add_verbosity",
    "is_quiet",
    "is_verbose",
    "load_schema_files",
    "schema_options",
    "split_schema_files",
]

FC = TypeVar("FC", bound=Callable[..., Any])

QUIET = "kypho.quiet"
VERBOSE = "kypho.verbose"
STDERR = "kypho.stderr"


class AliasOption(click.Option):
    """An option whose help shows only its first name; the others are hidden aliases."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None or len(self.opts) < 2:
            return record
        shown = self.opts[0]
        _, text = record
        metavar = "" if self.is_flag else " " + self.make_metavar(ctx)
        return f"{shown}{metavar}", text


class _Silent:
    """A stderr that drops what is written (``--quiet``); errors use the real one."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if not value:
            return value
        root = ctx.find_root()
        if root.meta.get(key):
            return value
        root.meta[key] = True
        if key == QUIET:
            import sys

            real = sys.stderr
            root.meta[STDERR] = real
            sys.stderr = _Silent()

            def restore() -> None:
                sys.stderr = real

            ctx.call_on_close(restore)
        return value

    return callback


def add_verbosity(command: click.Command) -> click.Command:
    """Give ``command`` (and its sub-commands) ``--quiet/-q`` and ``--verbose/-v``.

    A command with its own ``--quiet`` (``analyze``, ``synth``) keeps it; the
    flag is then also recorded for the group, which hides warnings.
    """
    if getattr(command, "_kypho_verbosity", False):
        return command
    command._kypho_verbosity = True  # type: ignore[attr-defined]
    names = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for param in command.params:
        # A command's own --quiet / --verbose gets the short spelling too, if free.
        for long, short in (("--quiet", "-q"), ("--verbose", "-v")):
            if isinstance(param, click.Option) and long in param.opts and short not in names:
                param.opts.append(short)
                names.add(short)
        if isinstance(param, click.Option) and "--quiet" in param.opts:
            previous = param.callback
            remember = _remember(QUIET)

            def both(
                ctx: click.Context,
                p: click.Parameter,
                value: Any,
                previous: Any = previous,
                remember: Any = remember,
            ) -> Any:
                value = remember(ctx, p, value)
                return previous(ctx, p, value) if previous is not None else value

            param.callback = both
    if "--quiet" not in names:
        command.params.append(
            click.Option(
                ["--quiet", "-q"],
                is_flag=True,
                expose_value=False,
                callback=_remember(QUIET),
                help="No progress lines or warnings on stderr (errors are still printed).",
            )
        )
    if "--verbose" not in names:
        command.params.append(
            click.Option(
                ["--verbose", "-v"],
                is_flag=True,
                expose_value=False,
                callback=_remember(VERBOSE),
                help="On an error, also print its underlying cause.",
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_verbosity(sub)
    return command


def is_quiet(ctx: click.Context | None = None) -> bool:
    """Whether ``--quiet`` was given anywhere on the command line."""
    ctx = ctx or click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().meta.get(QUIET))


def is_verbose(ctx: click.Context | None = None) -> bool:
    """Whether ``--verbose`` was given anywhere on the command line."""
    ctx = ctx or click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().meta.get(VERBOSE))


def schema_options(function: FC) -> FC:
    """``--schema FILE`` (repeatable; whole schema or extension) and the hidden ``--extension``."""
    function = click.option(
        "--extension",
        "extensions",
        multiple=True,
        hidden=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Schema extension YAML file (old spelling of --schema).",
    )(function)
    function = click.option(
        "--schema",
        "schema_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The study schema (YAML): a whole schema, or an extension of the built-in one "
        "(new variables or timepoints); repeat to merge several, in order.",
    )(function)
    return function


def _is_whole(path: Path) -> bool:
    from kypho.errors import SchemaError
    from kypho.safe_yaml import read_yaml_file

    doc = read_yaml_file(path, "schema file", SchemaError)
    # A file that declares the id and group columns is a whole schema; anything
    # else is an extension of the built-in one (new variables or timepoints).
    return isinstance(doc, dict) and "id_column" in doc and "group_column" in doc


def split_schema_files(
    schema_files: Sequence[Path], extensions: Sequence[Path] = ()
) -> tuple[Path | None, tuple[Path, ...]]:
    """``--schema`` and ``--extension`` files as (the whole schema or ``None``, the extensions).

    Raises
    ------
    SchemaError
        If more than one file is a whole schema, or a file is not valid YAML.
    """
    from kypho.errors import SchemaError

    whole = [p for p in schema_files if _is_whole(p)]
    if len(whole) > 1:
        raise SchemaError(
            f"--schema names {len(whole)} whole schemas ({', '.join(map(str, whole))}); give "
            "one whole schema and any number of extensions"
        )
    rest = tuple(p for p in schema_files if p not in whole) + tuple(extensions)
    return (whole[0] if whole else None), rest


def load_schema_files(schema_files: Sequence[Path], extensions: Sequence[Path] = ()) -> Schema:
    """The study schema from ``--schema`` files (one may be whole) and ``--extension`` files.

    Raises
    ------
    SchemaError
        If more than one file is a whole schema, or a file is malformed.
    """
    from kypho.schema import load_schema

    whole, rest = split_schema_files(schema_files, extensions)
    return load_schema(whole, extensions=rest)
