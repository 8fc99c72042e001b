"""The ``kypho`` command line.

Each sub-command lives in its own module and is imported only when it is run,
so that ``kypho --help`` and light commands start fast (no pandas, scipy or
matplotlib import for them). ``KyphoError`` is caught here and only here: its
message is printed plainly and the exit status is 2.

The console script ``kypho`` (and ``python -m kypho``) is :func:`run`, which
calls :func:`main` and then ends the process without Python's module teardown,
which for pandas, pyarrow and SciPy costs up to a second after the last line
is written; click's test runner calls :func:`main` itself and is unaffected.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
from typing import Any

import click

from kypho import __version__
from kypho.cli._options import add_verbosity, is_verbose
from kypho.errors import KyphoError

__all__ = ["main", "run"]

# name -> (module, attribute, one-line help). The help is repeated here so that
# ``kypho --help`` does not import every command module.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "analyze": (
        "kypho.cli.analyze",
        "analyze",
        "Validate, screen, derive, analyse; write the report.",
    ),
    "validate": ("kypho.cli.data", "validate", "Validate a data file against the study schema."),
    "template": (
        "kypho.cli.data",
        "template",
        "Write an Excel data-entry workbook from the schema.",
    ),
    "dictionary": ("kypho.cli.data", "dictionary", "Write the data dictionary of the schema."),
    "audit": ("kypho.cli.audit", "audit", "Audit a paper's published summary statistics."),
    "synth": ("kypho.cli.synth", "synth", "Generate a synthetic cohort consistent with a paper."),
    "power": ("kypho.cli.power", "power", "Power and sample size for the next study."),
    "db": ("kypho.cli.db", "db", "The study store: init, import, export, edit, lock, verify."),
    "redcap": (
        "kypho.cli.redcap",
        "redcap",
        "REDCap data dictionaries and records, in and out.",
    ),
    "serve": (
        "kypho.cli.serve",
        "serve",
        "The study in the browser: forms, dashboard, queries, log.",
    ),
    "simulate": (
        "kypho.cli.simulate",
        "simulate",
        "In-silico cement perfusion: compare protocols, sensitivity analysis.",
    ),
    "reliability": (
        "kypho.cli.reliability",
        "reliability",
        "Inter- and intra-rater reliability from a CSV of repeated reads.",
    ),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return None
        command: click.Command = getattr(module, attr)
        return add_verbosity(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KyphoError as exc:
            click.echo(f"error: {exc}", err=True)
            if is_verbose(ctx):
                cause = exc.__cause__ or exc.__context__
                while cause is not None:
                    click.echo(f"  caused by {type(cause).__name__}: {cause}", err=True)
                    cause = cause.__cause__ or cause.__context__
            ctx.exit(2)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kypho")
def main() -> None:
    """kypho: clinical studies of kyphoplasty, from patient records to published tables.

    Every command takes --quiet/-q (no progress lines or warnings) and --verbose/-v
    (an error's underlying cause); what a command writes is --out, the study schema
    --schema. Shell completion (bash, zsh, fish):
    eval "$(_KYPHO_COMPLETE=bash_source kypho)".
    """


def run() -> None:
    """The console script: :func:`main`, then a quick exit once all is written.

    When the command has finished, only the main thread is left, no child
    process runs and no profiler, debugger or coverage tool is watching (they
    write their results after :func:`run` returns), the exit handlers are run (``atexit``: logging, temporary
    folders, ...), the standard streams flushed and the process ended with
    :func:`os._exit`, skipping the teardown of every imported module (nothing
    is left to write by then). Otherwise it exits as Python normally does.
    """
    try:
        main(prog_name="kypho")
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    if not isinstance(code, int):
        # sys.exit("message") or sys.exit(None): as Python itself would end.
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    if _ending_is_watched() or threading.active_count() > 1 or _children_running():
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        # A closed pipe (kypho ... | head): nothing more can be written.
        code = code or 1
    os._exit(code)


def _ending_is_watched() -> bool:
    return sys.gettrace() is not None or sys.getprofile() is not None


def _children_running() -> bool:
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing is not None and bool(multiprocessing.active_children())
