"""``kypho db``: the study store from the command line.

The store is chosen by ``--url`` or ``$KYPHO_DB_URL`` (default: the SQLite file
``kypho.db`` in the current folder) and every command acts as the user named by
``--user`` or ``$KYPHO_USER`` (default: the login name), whose role in the store
decides what is allowed. Errors are :class:`~kypho.errors.KyphoError` and are
printed by ``kypho`` itself (exit status 2).

``kypho analyze --db URL`` reads its input with :func:`kypho.store.load_from_store`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kypho.cli._options import AliasOption, schema_options
from kypho.errors import InputFileError, StoreError

if TYPE_CHECKING:
    import pandas as pd

    from kypho.schema import Schema
    from kypho.store import Store

__all__ = ["db"]


@dataclass(frozen=True)
class _Options:
    url: str | None
    user: str | None
    schema_files: tuple[Path, ...]
    extensions: tuple[Path, ...]

    def schema(self) -> Schema | None:
        if not self.schema_files and not self.extensions:
            return None
        from kypho.cli._options import load_schema_files

        return load_schema_files(self.schema_files, self.extensions)

    def open(self, *, check: bool = True, schema: Schema | None = None) -> Store:
        from kypho.store import Store

        chosen = schema if schema is not None else self.schema()
        return Store(self.url, user=self.user, schema=chosen, check=check)


_pass_options = click.make_pass_decorator(_Options)
_reason = click.option("--reason", help="Why; recorded in the audit trail.")


_F = TypeVar("_F", bound=Callable[..., Any])


def _required_reason(what: str) -> Callable[[_F], _F]:
    return click.option("--reason", required=True, help=f"Why the {what}; recorded in the trail.")


@click.group("db")
@click.option(
    "--url",
    envvar="KYPHO_DB_URL",
    default=None,
    help="Database URL (sqlite:///file.db, postgresql+psycopg://user@host/db) or a SQLite "
    "file; default $KYPHO_DB_URL, else kypho.db here.",
)
@click.option(
    "--user",
    envvar="KYPHO_USER",
    default=None,
    help="Acting user; default $KYPHO_USER, else the login name.",
)
@schema_options
@click.pass_context
def db(
    ctx: click.Context,
    url: str | None,
    user: str | None,
    schema_files: tuple[Path, ...],
    extensions: tuple[Path, ...],
) -> None:
    """The study store: a database with users, record locks and an audit trail."""
    ctx.obj = _Options(url, user, schema_files, extensions)


@db.command("init")
@click.option("--admin", default=None, help="First admin user (default: the acting user).")
@_pass_options
def init(opts: _Options, admin: str | None) -> None:
    """Create an empty store; the acting user (or --admin) becomes its admin."""
    from kypho.store import Store, resolve_url

    with Store.init(opts.url, admin=admin or opts.user, schema=opts.schema()) as store:
        click.echo(f"created a study store at {_shown(resolve_url(opts.url))}; admin: {store.user}")


@db.command("import")
@click.argument("input_file", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@_required_reason("data are imported")
@click.option("--sheet", default=None, help="Worksheet of an .xlsx INPUT.")
@click.option("--strict", is_flag=True, help="Import nothing if any row is rejected.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the rejected rows' problems to this .csv file.",
)
@_pass_options
@click.pass_context
def import_(
    ctx: click.Context,
    opts: _Options,
    input_file: Path,
    reason: str,
    sheet: str | None,
    strict: bool,
    report: Path | None,
) -> None:
    """Validate INPUT (.csv/.xlsx/.sav) and store its valid rows in one transaction.

    Every rejected row is listed; the exit status is 1 when any row was rejected.
    """
    from kypho.cli._memory import no_cycle_collection
    from kypho.io._early import early_parse
    from kypho.schema import load_schema

    schema = opts.schema() or load_schema()
    # Arrow parses the file in a worker thread while pandas, SQLAlchemy and the
    # store load; read_table takes the parsed table (or reads the file itself).
    # Not reuse_freed_memory() as export does: the parse's memory then comes
    # from glibc instead of Arrow's mimalloc, a third more page faults (perf).
    with (
        no_cycle_collection(),
        early_parse(input_file, schema),
        opts.open(schema=schema) as store,
    ):
        from kypho import progress
        from kypho.io import read_table

        with progress.bar(f"reading {input_file.name}", ticking=True):
            raw = read_table(input_file, schema=store.schema, sheet=sheet)
        with progress.bar(f"validating and storing {len(raw):,} records", ticking=True):
            # this process uses the store from this thread only (see import_frame)
            result = store.import_frame(
                raw, reason=reason, source=input_file.name, strict=strict, exclusive=True
            )
    click.echo(result.summary())
    for message in result.problems["message"]:
        click.echo(f"  {message}")
    if report is not None:
        _write_csv(result.problems, report)
    if result.n_rejected:
        ctx.exit(1)


@db.command("export")
@click.argument("output", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The file to write (.csv or .xlsx); the same as giving OUTPUT.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Export identified data as stored (admin only, needs --reason, recorded).",
)
@_reason
@click.option(
    "--skip-verify",
    "skip_verify",
    metavar="REASON",
    help="Export a store that does not pass `verify`, for this reason (recorded in the trail).",
)
@_pass_options
def export(
    opts: _Options,
    output: Path | None,
    out: Path | None,
    full: bool,
    reason: str | None,
    skip_verify: str | None,
) -> None:
    """Write the records to OUTPUT or --out (.csv or .xlsx), de-identified unless --full.

    The store is verified first and refused if it does not verify (see
    --skip-verify). Each record comes with its version and lock
    (record_version, record_locked). Cells that a spreadsheet would run as a
    formula are neutralised (a leading apostrophe in .csv, text with Excel's
    quote prefix in .xlsx).
    """
    if (output is None) == (out is None):
        raise click.UsageError("give the file to write once: as OUTPUT or as --out")
    output = output or out
    assert output is not None  # one of the two, checked above
    if output.suffix.lower() not in (".csv", ".xlsx"):
        raise InputFileError(
            f"cannot export to {str(output)!r}: the file must end in .csv or .xlsx"
        )
    from kypho.cli._memory import no_cycle_collection, reuse_freed_memory
    from kypho.store._early import prefetch

    reuse_freed_memory()
    with no_cycle_collection():
        # the records are read in threads while the rest is imported (kypho.store._early)
        with prefetch(opts.url) as early:
            import kypho.store.store  # noqa: F401  (pandas, SQLAlchemy: beside the read)
            from kypho import progress
            from kypho.output.cells import empty_lists_as_token

            early.settle()
            with (
                opts.open() as store,
                progress.bar("reading the records from the store", ticking=True),
            ):
                frame = store.export(full=full, reason=reason, unverified=skip_verify)
                # an empty list written as an empty cell would read back as missing
                frame = empty_lists_as_token(frame, store.schema)
        with progress.bar(f"writing {len(frame):,} records to {output.name}", ticking=True):
            if output.suffix.lower() == ".csv":
                _write_csv(frame, output)
            else:
                from kypho.output.cells import write_xlsx

                write_xlsx(frame, output, sheet_name="Records")
    kind = "identified (full)" if full else "de-identified"
    click.echo(f"wrote {len(frame)} {kind} records to {output}")


@db.command("edit")
@click.argument("record")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    metavar="FIELD=VALUE",
    help="New value of a field; repeat for several fields.",
)
@_required_reason("record is changed")
@click.option(
    "--version",
    "expected_version",
    type=int,
    default=None,
    help="The version you read (see `kypho db log`); default: the current one.",
)
@_pass_options
def edit(
    opts: _Options,
    record: str,
    assignments: tuple[str, ...],
    reason: str,
    expected_version: int | None,
) -> None:
    """Change fields of RECORD; refused if it is locked or changed since --version."""
    changes: dict[str, object] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected FIELD=VALUE, got {item!r}", param_hint="--set")
        changes[name.strip()] = value
    with opts.open() as store:
        before = store.get(record)
        version = before.version if expected_version is None else expected_version
        after = store.edit(record, changes, expected_version=version, reason=reason)
    if after.version == before.version:
        click.echo(f"record {record} unchanged (version {after.version})")
        return
    click.echo(f"record {record} is now version {after.version}")
    for name in changes:
        if before.values[name] != after.values[name]:
            click.echo(f"  {name}: {before.values[name]!r} -> {after.values[name]!r}")


@db.command("delete")
@click.argument("record")
@_required_reason("record is deleted")
@click.option("--version", "expected_version", type=int, default=None, help="The version you read.")
@_pass_options
def delete(opts: _Options, record: str, reason: str, expected_version: int | None) -> None:
    """Delete RECORD; the audit trail keeps its last values."""
    with opts.open() as store:
        version = store.get(record).version if expected_version is None else expected_version
        store.delete(record, expected_version=version, reason=reason)
    click.echo(f"deleted record {record}")


@db.command("lock")
@click.argument("record")
@_required_reason("record is locked")
@_pass_options
def lock(opts: _Options, record: str, reason: str) -> None:
    """Lock RECORD: it refuses edits until a user with the unlock right unlocks it."""
    with opts.open() as store:
        store.lock(record, reason=reason)
    click.echo(f"locked record {record}")


@db.command("unlock")
@click.argument("record")
@_required_reason("record is unlocked")
@_pass_options
def unlock(opts: _Options, record: str, reason: str) -> None:
    """Unlock RECORD (admin)."""
    with opts.open() as store:
        store.unlock(record, reason=reason)
    click.echo(f"unlocked record {record}")


@db.command("log")
@click.option("--record", default=None, help="Only the entries of this record.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the last N entries.")
@click.option(
    "--out",
    "--output",
    "output",
    cls=AliasOption,
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the trail (with hashes) to this .csv file instead of printing it.",
)
@click.option(
    "--full",
    is_flag=True,
    help="With identified values (admin only, needs --reason, recorded in the trail).",
)
@_reason
@_pass_options
def log(
    opts: _Options,
    record: str | None,
    limit: int | None,
    output: Path | None,
    full: bool,
    reason: str | None,
) -> None:
    """Show the audit trail: who, when, what, version, old -> new, why.

    Values are de-identified (identifiers and free text removed, dates as
    years, ages over 89 as 90+) unless --full, which needs the admin role and a
    reason and is itself recorded, like `export --full`.
    """
    with opts.open() as store:
        trail = store.log(record=record, limit=limit, full=full, reason=reason)
        header = _record_line(store, record) if record is not None else None
    if output is not None:
        _write_csv(trail, output)
        kind = "identified" if full else "de-identified"
        click.echo(
            f"wrote {_count(len(trail), 'audit entry', 'audit entries')} ({kind}) to {output}"
        )
        return
    if header is not None:
        click.echo(header)
    if trail.empty:
        click.echo("no audit entries")
        return
    for entry in trail.to_dict("records"):
        where = " ".join(str(entry[k]) for k in ("record", "field") if entry[k] is not None)
        change = ""
        if entry["action"] == "create_batch" and entry["record"] is None:
            change = _batch_line(entry["new_value"])
        elif entry["old_value"] is not None or entry["new_value"] is not None:
            change = f" {_short(entry['old_value'])} -> {_short(entry['new_value'])}"
        why = f" ({entry['reason']!s})" if entry["reason"] else ""
        version = "" if entry["version"] is None else f" v{entry['version']}"
        click.echo(
            f"{entry['seq']!s:>6} {entry['at']!s} {entry['user_name']!s} [{entry['role']!s}] "
            f"{entry['action']!s}{version} {where}{change}{why}"
        )


def _batch_line(text: object) -> str:
    """``created N records: first … last`` of a batch entry's JSON object."""
    import json

    try:
        found = json.loads(str(text))
        return f"created {_count(found['records'], 'record', 'records')}: {found['first']} … {found['last']}"
    except (ValueError, TypeError, KeyError):
        return "created records (the entry cannot be read: see `kypho db verify`)"


def _record_line(store: Store, record: str) -> str:
    try:
        current = store.get(record)
    except StoreError:
        return f"record {record}: not in the store"
    return f"record {record}: version {current.version}, {_lock_text(current.locked_by, current.locked)}"


def _lock_text(locked_by: str | None, locked: bool) -> str:
    return f"locked by {locked_by}" if locked else "not locked"


@db.command("show")
@click.argument("record")
@_pass_options
def show(opts: _Options, record: str) -> None:
    """Show RECORD: every field, its version, its lock and its status.

    Identifying fields (names, hospital numbers, dates of birth, notes) are
    shown only to roles that work with source documents (data_entry, monitor,
    admin).
    """
    with opts.open() as store:
        current = store.show(record)
        role = _role_of(store)
    click.echo(f"record {current.record_id}")
    click.echo(f"version {current.version}, {_lock_text(current.locked_by, current.locked)}")
    if current.locked:
        click.echo("status: locked (edits and deletes refused until an admin unlocks it)")
    else:
        click.echo("status: open (may be edited)")
    for name, value in current.values.items():
        if name in current.hidden:
            shown = f"(identifier, not shown to role {role})"
        elif value is None:
            shown = "(missing)"
        else:
            shown = value.isoformat() if hasattr(value, "isoformat") else str(value)
        click.echo(f"  {name}: {shown}")


def _role_of(store: Store) -> str:
    users = store.users()
    match = users[users["name"] == store.user]
    return str(match["role"].iloc[0]) if len(match) else "unknown"


@db.command("verify")
@click.option(
    "--head",
    "head",
    metavar="HASH",
    default=None,
    help="A head hash printed by an earlier verify and kept outside the database: the "
    "trail must still contain it (catches a removed tail with a rewound head).",
)
@_pass_options
def verify(opts: _Options, head: str | None) -> None:
    """Recompute the audit trail's hash chain; compare records, locks and users with it.

    Prints the head hash: keep it outside the database (a lab book, an e-mail
    to the monitor) and pass it to a later `verify --head HASH`.
    """
    from kypho.cli._memory import no_cycle_collection, reuse_freed_memory
    from kypho.store._early import prefetch

    reuse_freed_memory()
    # the records are read in threads while the rest is imported (kypho.store._early)
    with no_cycle_collection(), prefetch(opts.url) as early:
        import kypho.store.store  # noqa: F401  (pandas, SQLAlchemy: beside the read)

        early.settle()
        with opts.open() as store:
            result = store.verify(head=head)
    result.raise_if_failed()
    click.echo(result.summary())
    click.echo(f"keep this head hash to check the trail later: {result.head_hash}")
    if result.kept_seq is not None:
        added = result.n_entries - result.kept_seq
        since = (
            "no entry was added since"
            if added == 0
            else f"{_count(added, 'entry', 'entries')} {'was' if added == 1 else 'were'} added since"
        )
        click.echo(f"the head you kept (entry {result.kept_seq}) is in the trail; {since}")


@db.command("migrate")
@_pass_options
def migrate(opts: _Options) -> None:
    """Upgrade the store's structure and add the columns of new schema variables (admin)."""
    with opts.open(check=False) as store:
        added = store.migrate()
    if added:
        click.echo(f"added column(s): {', '.join(added)}")
    else:
        click.echo("the store's columns already match the schema")


@db.group("user")
def user() -> None:
    """Users of the store and their roles (read_only, analyst, data_entry, monitor, admin)."""


# kept in step with kypho.store.ROLES (a test checks), so that building the
# command does not import the store
_ROLE = click.Choice(["read_only", "analyst", "data_entry", "monitor", "admin"])


@user.command("add")
@click.argument("name")
@click.option("--role", type=_ROLE, required=True, help="The user's role.")
@_reason
@_pass_options
def user_add(opts: _Options, name: str, role: str, reason: str | None) -> None:
    """Add user NAME with a role (admin)."""
    with opts.open() as store:
        store.add_user(name, role, reason=reason)
    click.echo(f"added user {name} ({role})")


@user.command("role")
@click.argument("name")
@click.argument("role", type=_ROLE)
@_reason
@_pass_options
def user_role(opts: _Options, name: str, role: str, reason: str | None) -> None:
    """Give user NAME a new ROLE (admin)."""
    with opts.open() as store:
        store.set_role(name, role, reason=reason)
    click.echo(f"user {name} is now {role}")


@user.command("disable")
@click.argument("name")
@_reason
@_pass_options
def user_disable(opts: _Options, name: str, reason: str | None) -> None:
    """Disable user NAME: every command refuses them (admin)."""
    with opts.open() as store:
        store.set_active(name, False, reason=reason)
    click.echo(f"disabled user {name}")


@user.command("enable")
@click.argument("name")
@_reason
@_pass_options
def user_enable(opts: _Options, name: str, reason: str | None) -> None:
    """Enable a disabled user NAME again (admin)."""
    with opts.open() as store:
        store.set_active(name, True, reason=reason)
    click.echo(f"enabled user {name}")


@user.command("passwd")
@click.argument("name")
@_pass_options
def user_passwd(opts: _Options, name: str) -> None:
    """Set the web login password of user NAME (yourself, or anyone as admin).

    Asked twice on a terminal; read from the first line of standard input otherwise.
    """
    import sys

    from kypho.store.auth import set_password

    if sys.stdin.isatty():
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with opts.open() as store:
        set_password(store, name, password, reason="set with kypho db user passwd")
    click.echo(f"password of {name} set")


@user.command("list")
@_pass_options
def user_list(opts: _Options) -> None:
    """List the users and their roles."""
    with opts.open() as store:
        users = store.users()
    for row in users.itertuples(index=False):
        state = "" if row.active else " (disabled)"
        click.echo(f"{row.name}\t{row.role}{state}")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _short(value: object, width: int = 60) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _shown(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"cannot read the database URL {url!r}") from exc


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    from kypho.output.cells import write_csv

    write_csv(frame, path)
