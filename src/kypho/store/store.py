"""The study store: records, audit trail, users, import, edit, export, verify.

One :class:`Store` object talks to one database (SQLite or PostgreSQL) on behalf
of one user. Every change runs in one transaction that first takes the audit
chain's head row (``kypho_chain``): this serialises writers on both engines, so
hash-chained entries never interleave, and a transaction that fails or whose
process dies leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import getpass
import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa

from kypho.errors import (
    ColumnError,
    ConflictError,
    IntegrityError,
    LockedError,
    PermissionDenied,
    StoreError,
    ValidationError,
)
from kypho.schema import Schema, Variable, load_schema
from kypho.schema.dtypes import pandas_dtype, typed_column
from kypho.store import _early, migrate
from kypho.store._reading import (
    arrow_types,
    cast_columns,
    copied_table,
    postgresql_table,
    typed_frame,
)
from kypho.store._replay import MalformedCreate, Trail, compare
from kypho.store._sqlite_direct import DirectSqlite, sqlite_file
from kypho.store.audit import (
    GENESIS,
    HASHED_FIELDS,
    chain_hashes,
    deidentify_trail,
    dumps,
    entry_hash,
    now,
)
from kypho.store.batch import ACTION as BATCH_ACTION
from kypho.store.batch import decode_batch, encode_batch, records_table
from kypho.store.engine import (
    SQLITE_BUSY_TIMEOUT,
    SQLITE_CACHE_KIB,
    SQLITE_IMPORT_SCHEMA,
    SQLITE_PAGE_SIZE,
    USER_ENV,
    create_store_engine,
    resolve_url,
)
from kypho.store.roles import RIGHTS, ROLES
from kypho.store.safe_harbor import deidentify
from kypho.store.tables import StoreTables, build_tables, column_spec, schema_fingerprint

if TYPE_CHECKING:
    import pyarrow as pa

    from kypho.validation import ValidationResult

__all__ = [
    "ImportResult",
    "Record",
    "Store",
    "VerifyResult",
    "load_from_store",
    "resolve_user",
]

# rows per executemany call: large enough to amortise round trips, small enough
# to keep the parameter lists of a wide record table modest
_CHUNK = 2000
# audit entries fetched and hashed at a time by verify: each column's distinct
# values are encoded once per batch, so larger batches encode fewer values twice
_VERIFY_ROWS = 25_000
# ids per IN (...) query; below SQLite's historical limit of 999 parameters
_IN_CHUNK = 900
#: Rows an import validates at a time when it stores each block while validating
#: the next (Store._import_blocks): the first block smaller, so that storing
#: starts soon; each block costs validation's fixed ~30 ms once more.
_FIRST_VALIDATE_ROWS = 10_000
_VALIDATE_ROWS = 30_000
# an audit row as stored: the hashed fields, then the chain links
_STORED_AUDIT = (*HASHED_FIELDS, "prev_hash", "hash")
_WHAT = {
    "read": "read records",
    "log": "read the audit trail",
    "verify": "verify the audit trail",
    "import": "import records",
    "edit": "edit records",
    "delete": "delete records",
    "lock": "lock records",
    "unlock": "unlock records",
    "export": "export data",
    "export_full": "export identified (full) data",
    "log_full": "read the identified audit trail",
    "read_identified": "see identifying fields",
    "manage_users": "manage users",
    "migrate": "migrate the store",
}


@functools.cache
def _default_schema() -> Schema:
    # parsing the YAML costs ~0.1 s; the schema object is immutable, so share it
    return load_schema()


def resolve_user(user: str | None = None) -> str:
    """The acting user: ``user``, else ``$KYPHO_USER``, else the login name."""
    name = user or os.environ.get(USER_ENV)
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = ""
    if not name:
        raise StoreError(f"no acting user: pass --user NAME or set {USER_ENV}")
    return name


@dataclass(frozen=True)
class Record:
    """One stored record as kypho last saw it.

    ``version`` starts at 1 and grows by one with every edit; pass it back as
    ``expected_version`` to :meth:`Store.edit` so a concurrent change is detected.
    """

    record_id: str
    version: int
    locked: bool
    locked_by: str | None
    values: Mapping[str, Any]
    #: fields whose value :meth:`Store.show` withheld from a role without the
    #: ``read_identified`` right (their value is ``None`` here)
    hidden: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row: the record's values plus ``version`` and ``locked``."""
        return pd.DataFrame([{**self.values, "version": self.version, "locked": self.locked}])


@dataclass(frozen=True)
class ImportResult:
    """What an import did.

    Attributes
    ----------
    n_read
        Rows in the input.
    n_imported
        Records created (all in one transaction).
    rejected
        The rejected input rows with their original values, ``row`` (1-based)
        and ``reasons``.
    problems
        One row per problem: ``row``, ``record``, ``field``, ``value``,
        ``problem``, ``message`` (as :func:`kypho.validation.validate`, plus
        ``problem == "exists"`` for an id already in the store).
    unknown_columns
        Input columns that are not in the schema (not imported).
    """

    n_read: int
    n_imported: int
    rejected: pd.DataFrame
    problems: pd.DataFrame
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def n_rejected(self) -> int:
        """Rows rejected."""
        return len(self.rejected)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{_count(self.n_read, 'row')} read: {self.n_imported} imported, "
            f"{self.n_rejected} rejected ({_count(len(self.problems), 'problem')})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``n_read``, ``n_imported``, ``n_rejected``."""
        return pd.DataFrame(
            [{"n_read": self.n_read, "n_imported": self.n_imported, "n_rejected": self.n_rejected}]
        )


@dataclass(frozen=True)
class VerifyResult:
    """What :meth:`Store.verify` found.

    ``ok`` is true when the hash chain is intact, its head matches the last entry,
    and every stored record equals the record rebuilt from the trail.
    ``head_hash`` may be written down elsewhere (a lab book, an e-mail) to anchor
    the trail: an attacker who rewrites the whole chain cannot reproduce it.
    """

    ok: bool
    n_entries: int
    n_records: int
    head_hash: str
    problems: tuple[str, ...] = ()
    #: with ``verify(head=...)``: the entry whose hash is the head kept, else ``None``
    kept_seq: int | None = None

    def summary(self) -> str:
        """One line for people."""
        if self.ok:
            return (
                f"audit trail verified: {self.n_entries} entries, {self.n_records} records, "
                f"head {self.head_hash}"
            )
        return f"audit trail does NOT verify: {_count(len(self.problems), 'problem')}"

    def refusal(self, nothing: str, override: str) -> IntegrityError:
        """The error refusing to use a store that does not verify.

        ``nothing`` says what was not done ("nothing was exported"), ``override``
        how to go ahead anyway and where that is recorded.
        """
        return IntegrityError(
            f"the store does not verify ({_count(len(self.problems), 'problem')}), so its data "
            f"may have been changed behind kypho's back; {nothing}. See `kypho db verify`; "
            f"{override}"
        )

    def raise_if_failed(self) -> None:
        """Raise :class:`~kypho.errors.IntegrityError` listing every problem, if any."""
        if not self.ok:
            lines = "\n".join(f"  {p}" for p in self.problems)
            raise IntegrityError(f"{self.summary()}:\n{lines}")

    def to_frame(self) -> pd.DataFrame:
        """One row per problem (``problem``); empty when the trail verifies."""
        return pd.DataFrame({"problem": list(self.problems)}, dtype=object)


class _Writer:
    """Buffers the audit entries of one transaction and chains their hashes."""

    def __init__(
        self,
        conn: sa.Connection | None,
        tables: StoreTables,
        seq: int,
        head: str,
        user: str,
        role: str,
        *,
        direct: DirectSqlite | None = None,
    ) -> None:
        self._conn = conn
        # an import's transaction on ADBC's SQLite connection, which then does
        # everything: SQLAlchemy's connections are not touched (_sqlite_direct)
        self.direct = direct
        self.tables = tables
        self.seq = seq
        self.head = head
        self.user = user
        self.role = role
        self.at = now()
        self.entries: list[dict[str, Any]] = []

    @property
    def conn(self) -> sa.Connection:
        """The transaction's SQLAlchemy connection (none in an import's ADBC transaction)."""
        if self._conn is None:
            raise StoreError(
                "internal error: an import's ADBC transaction has no SQLAlchemy connection"
            )
        return self._conn

    def append(
        self,
        action: str,
        *,
        record: str | None = None,
        field: str | None = None,
        old: str | None = None,
        new: str | None = None,
        reason: str | None = None,
        version: int | None = None,
    ) -> None:
        self.seq += 1
        entry: dict[str, Any] = {
            "seq": self.seq,
            "at": self.at,
            "user_name": self.user,
            "role": self.role,
            "action": action,
            "record": record,
            "field": field,
            "old_value": old,
            "new_value": new,
            "reason": reason,
            "version": version,
            "prev_hash": self.head,
        }
        entry["hash"] = self.head = entry_hash(self.head, entry)
        self.entries.append(entry)
        if len(self.entries) >= _CHUNK:
            self._send()

    def _send(self) -> None:
        if self.entries:
            rows = [tuple(e[c] for c in _STORED_AUDIT) for e in self.entries]
            if self.direct is not None:
                self.direct.append_rows(self.tables.audit, _STORED_AUDIT, rows)
            else:
                _bulk_insert(self.conn, self.tables.audit, _STORED_AUDIT, rows)
            self.entries = []

    def flush(self) -> None:
        self._send()
        chain = self.tables.chain
        head = sa.update(chain).where(chain.c.id == 1).values(seq=self.seq, hash=self.head)
        if self.direct is not None:
            self.direct.execute(head)
        else:
            self.conn.execute(head)


class Store:
    """A study's data in a database, with users, record locks and an audit trail.

    Parameters
    ----------
    url
        SQLAlchemy database URL or SQLite file path; ``None`` uses
        ``$KYPHO_DB_URL`` or ``sqlite:///kypho.db`` (see :func:`resolve_url`).
    user
        The acting user; ``None`` uses ``$KYPHO_USER`` or the login name. Every
        operation checks this user's role in the store.
    schema
        The study schema the store was built with (``None``: kypho's built-in).
    check
        ``False`` opens a store whose structure revision or schema version is out
        of date, only so that an admin can call :meth:`migrate`.

    Raises
    ------
    StoreError
        If the database holds no kypho store, an older store structure (run
        :meth:`migrate`), or was built for a different schema.

    Examples
    --------
    >>> import pandas as pd
    >>> store = Store.init("sqlite://", admin="ada")
    >>> raw = pd.DataFrame({"patient_id": ["P-1"], "group": ["control"], "sex": ["female"],
    ...                     "age": [71], "level": ["L1"]})
    >>> store.import_frame(raw, reason="first batch").summary()
    '1 row read: 1 imported, 0 rejected (0 problems)'
    >>> store.edit("P-1", {"age": 72}, expected_version=1, reason="typo").version
    2
    >>> store.verify().ok
    True
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        user: str | None = None,
        schema: Schema | None = None,
        check: bool = True,
        _engine: sa.Engine | None = None,
    ) -> None:
        self.url = resolve_url(url)
        self.schema = schema or _default_schema()
        self.tables = build_tables(self.schema)
        self.user = resolve_user(user)
        self.engine = _engine or create_store_engine(self.url)
        try:
            self._check(check)
        except BaseException:
            self.engine.dispose()
            raise

    # ------------------------------------------------------------------ opening

    @classmethod
    def init(
        cls, url: str | None = None, *, admin: str | None = None, schema: Schema | None = None
    ) -> Store:
        """Create a store in an empty database; ``admin`` becomes its first admin user.

        Raises
        ------
        StoreError
            If the database already holds a kypho store.
        """
        schema = schema or _default_schema()
        admin = resolve_user(admin)
        tables = build_tables(schema)
        engine = create_store_engine(url)
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    # before anything reads the file: an empty database takes
                    # it, and keeps it for the store's life (ignored otherwise)
                    conn.exec_driver_sql(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
                if sa.inspect(conn).has_table(tables.chain.name):
                    raise StoreError(
                        f"{_safe_url(engine)} already holds a kypho store; open it instead"
                    )
                migrate.upgrade(conn, schema)
                at = now()
                conn.execute(sa.insert(tables.chain).values(id=1, seq=0, hash=GENESIS))
                conn.execute(
                    sa.insert(tables.schema_versions).values(
                        version=1,
                        fingerprint=schema_fingerprint(schema),
                        columns=json.dumps(column_spec(schema)),
                        applied_at=at,
                        applied_by=admin,
                    )
                )
                conn.execute(
                    sa.insert(tables.users).values(
                        name=admin, role="admin", active=True, added_at=at, added_by=admin
                    )
                )
                writer = _Writer(conn, tables, 0, GENESIS, admin, "admin")
                writer.append(
                    "init",
                    new=dumps(
                        {
                            "study": schema.study,
                            "schema_version": 1,
                            "fingerprint": schema_fingerprint(schema),
                            "revision": migrate.head_revision(),
                        }
                    ),
                    reason="store created",
                )
                writer.append("user_add", record=None, field=admin, new=dumps("admin"))
                writer.flush()
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"cannot create the store at {_safe_url(engine)}: {exc}") from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(url, user=admin, schema=schema, _engine=engine)

    def _check(self, strict: bool) -> None:
        try:
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table(self.tables.chain.name):
                    raise StoreError(
                        f"{_safe_url(self.engine)} holds no kypho store; create one with "
                        "`kypho db init`"
                    )
                revision = migrate.current_revision(conn)
                version, stored = migrate.stored_columns(conn, self.tables)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {_safe_url(self.engine)}: {exc}") from exc
        if not strict:
            return
        head = migrate.head_revision()
        if revision != head:
            raise StoreError(
                f"the store at {_safe_url(self.engine)} has structure revision {revision}, "
                f"kypho expects {head}; an admin must run `kypho db migrate`"
            )
        if stored != column_spec(self.schema):
            raise StoreError(
                f"the store at {_safe_url(self.engine)} was built for schema version {version} "
                "and does not match the schema given; an admin must run `kypho db migrate` "
                "with the new schema (columns are added, never dropped)"
            )

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------- users and rights

    def _role(self, conn: sa.Connection, right: str) -> str:
        row = conn.execute(self._role_query()).first()
        return self._checked_role(None if row is None else (row.role, row.active), right)

    def _role_query(self) -> sa.Select[Any]:
        users = self.tables.users
        return sa.select(users.c.role, users.c.active).where(users.c.name == self.user)

    def _checked_role(self, row: tuple[object, object] | None, right: str) -> str:
        """The user's role, given their (role, active) row, if it has ``right``."""
        if row is None:
            raise PermissionDenied(
                f"{self.user!r} is not a user of this store; an admin can add them with "
                f"`kypho db user add {self.user} --role ROLE` (roles: {', '.join(ROLES)})"
            )
        stored_role, active = row
        if not active:
            raise PermissionDenied(f"user {self.user!r} is disabled in this store")
        role = str(stored_role)
        if right not in RIGHTS[role]:
            allowed = [r for r in ROLES if right in RIGHTS[r]]
            raise PermissionDenied(
                f"user {self.user!r} (role {role}) may not {_WHAT[right]}; "
                f"roles that may: {', '.join(allowed)}"
            )
        return role

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.DBAPIError as exc:
            raise StoreError(
                f"the database at {_safe_url(self.engine)} failed: {exc.orig}; nothing was written"
            ) from exc

    @contextmanager
    def _reading(self, right: str, *, snapshot: bool = False) -> Iterator[sa.Connection]:
        with self._database_errors(), self.engine.connect() as conn:
            if snapshot and conn.dialect.name == "postgresql":
                # one snapshot for several queries, so that a writer committing
                # between them cannot make them disagree; a SQLite read
                # transaction is a snapshot already (its shared lock holds writers)
                conn.execution_options(isolation_level="REPEATABLE READ")
            self._role(conn, right)
            yield conn

    @contextmanager
    def _writing(self, right: str) -> Iterator[_Writer]:
        chain = self.tables.chain
        with self._database_errors(), self.engine.begin() as conn:
            # writing the head row first takes the write lock before anything is
            # read (SQLite: RESERVED lock; PostgreSQL: row lock), so concurrent
            # writers queue here instead of interleaving their audit entries
            conn.execute(sa.update(chain).where(chain.c.id == 1).values(seq=chain.c.seq))
            head = conn.execute(sa.select(chain.c.seq, chain.c.hash).where(chain.c.id == 1)).one()
            role = self._role(conn, right)
            writer = _Writer(conn, self.tables, int(head.seq), str(head.hash), self.user, role)
            yield writer
            writer.flush()

    def users(self) -> pd.DataFrame:
        """The store's users: ``name``, ``role``, ``active``, ``added_at``, ``added_by``."""
        users = self.tables.users
        with self._reading("read") as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name)).mappings().all()
        return pd.DataFrame(
            [dict(r) for r in rows], columns=["name", "role", "active", "added_at", "added_by"]
        )

    def add_user(self, name: str, role: str, *, reason: str | None = None) -> None:
        """Add a user with a role (needs ``manage_users``)."""
        _check_role(role)
        users = self.tables.users
        with self._writing("manage_users") as w:
            if w.conn.execute(sa.select(users.c.name).where(users.c.name == name)).first():
                raise StoreError(f"user {name!r} already exists; change a role with `user role`")
            w.conn.execute(
                sa.insert(users).values(
                    name=name, role=role, active=True, added_at=w.at, added_by=self.user
                )
            )
            w.append("user_add", field=name, new=dumps(role), reason=reason)

    def set_role(self, name: str, role: str, *, reason: str | None = None) -> None:
        """Change a user's role (needs ``manage_users``)."""
        _check_role(role)
        users = self.tables.users
        with self._writing("manage_users") as w:
            old = self._existing_user(w.conn, name)
            w.conn.execute(sa.update(users).where(users.c.name == name).values(role=role))
            self._keep_an_admin(w.conn, name, "demoting")
            w.append("user_role", field=name, old=dumps(old), new=dumps(role), reason=reason)

    def set_active(self, name: str, active: bool, *, reason: str | None = None) -> None:
        """Disable (``active=False``) or re-enable a user (needs ``manage_users``)."""
        users = self.tables.users
        with self._writing("manage_users") as w:
            self._existing_user(w.conn, name)
            w.conn.execute(sa.update(users).where(users.c.name == name).values(active=active))
            self._keep_an_admin(w.conn, name, "disabling")
            w.append("user_enable" if active else "user_disable", field=name, reason=reason)

    def _keep_an_admin(self, conn: sa.Connection, name: str, doing: str) -> None:
        """Refuse (rolling the change back) a change that leaves no active admin."""
        users = self.tables.users
        left = conn.execute(
            sa.select(sa.func.count())
            .select_from(users)
            .where(users.c.role == "admin")
            .where(users.c.active == sa.true())
        ).scalar_one()
        if not left:
            raise StoreError(
                f"user {name!r} is the only active admin of this store; add or enable another "
                f"admin before {doing} them (a store without an admin cannot be administered)"
            )

    def rights(self) -> frozenset[str]:
        """The rights of the acting user's role (see :data:`kypho.store.RIGHTS`)."""
        users = self.tables.users
        with self._reading("read") as conn:
            role = conn.execute(sa.select(users.c.role).where(users.c.name == self.user)).scalar()
        return RIGHTS.get(str(role), frozenset())

    def _existing_user(self, conn: sa.Connection, name: str) -> str:
        users = self.tables.users
        row = conn.execute(sa.select(users.c.role).where(users.c.name == name)).first()
        if row is None:
            raise StoreError(f"no user {name!r} in this store")
        return str(row.role)

    # -------------------------------------------------------------------- reads

    def read(self) -> pd.DataFrame:
        """All records, typed as :func:`kypho.validation.validate` types accepted data.

        Columns are the schema's input variables in declared order, one row per
        record in import order. Numbers ``float64``, whole numbers ``Int64``,
        categories/ordinals ``Categorical`` over the codes, booleans ``boolean``,
        dates ``datetime64[ns]``, ids, text and lists ``string``.
        """
        records = self.tables.records
        cols = [records.c[name] for name in self.tables.data_columns]
        with self._reading("read") as conn:
            rows = conn.execute(sa.select(*cols).order_by(records.c.kypho_row)).all()
        return _typed_frame(rows, self.schema, self.tables.data_columns)

    def get(self, record_id: str) -> Record:
        """One record with its version and lock state.

        Raises
        ------
        StoreError
            If there is no such record.
        """
        with self._reading("read") as conn:
            return self._get(conn, record_id)

    def show(self, record_id: str) -> Record:
        """One record for display: identifying fields withheld unless the role may see them.

        Roles with the ``read_identified`` right (data_entry, monitor, admin:
        those who work with source documents) get every value; for the others
        the values of ``phi: direct`` and ``phi: free_text`` variables are
        ``None`` and their names are in :attr:`Record.hidden`.

        Raises
        ------
        StoreError
            If there is no such record.
        """
        from kypho.store.safe_harbor import dropped_columns

        with self._reading("read") as conn:
            role = self._role(conn, "read")
            record = self._get(conn, record_id)
        if "read_identified" in RIGHTS[role]:
            return record
        drop = set(dropped_columns(self.schema))
        hidden = tuple(n for n, v in record.values.items() if n in drop and v is not None)
        values = {n: None if n in drop else v for n, v in record.values.items()}
        return Record(
            record.record_id, record.version, record.locked, record.locked_by, values, hidden
        )

    def _get(self, conn: sa.Connection, record_id: str) -> Record:
        records = self.tables.records
        row = (
            conn.execute(sa.select(records).where(records.c[self.schema.id_column] == record_id))
            .mappings()
            .first()
        )
        if row is None:
            raise StoreError(f"no record {record_id!r} in the store")
        return Record(
            record_id=record_id,
            version=int(row["kypho_version"]),
            locked=bool(row["kypho_locked"]),
            locked_by=row["kypho_locked_by"],
            values={name: row[name] for name in self.tables.data_columns},
        )

    def log(
        self,
        *,
        record: str | None = None,
        limit: int | None = None,
        full: bool = False,
        reason: str | None = None,
    ) -> pd.DataFrame:
        """The audit trail, oldest first (the last ``limit`` entries when given).

        Columns: ``seq``, ``at``, ``user_name``, ``role``, ``action``, ``record``,
        ``field``, ``old_value``, ``new_value`` (JSON text), ``reason``,
        ``version``, ``prev_hash``, ``hash``.

        An import's ``create_batch`` entry (its records as one Parquet file,
        :mod:`kypho.store.batch`) is one entry; its ``new_value`` is the batch's
        JSON object without the records (column names, number of records, first
        and last record id) unless ``full``. With ``record``, the batch that
        created the record is shown as the record's creation: ``record`` is set
        and ``new_value`` holds that record's values only (as a ``create``
        entry's JSON), de-identified unless ``full``.

        Parameters
        ----------
        record, limit
            Only this record's entries; only the last ``limit`` entries.
        full
            With identified values (needs the ``log_full`` right, admin, and a
            ``reason``; recorded in the trail as a ``log`` entry, like a full
            export). By default the values are de-identified
            (:func:`kypho.store.audit.deidentify_trail`), for every role.
        reason
            Why the identified trail is read.
        """
        audit = self.tables.audit
        columns = list(audit.c.keys())
        query = sa.select(audit).order_by(audit.c.seq.desc())
        if record is not None:
            # a record created by an import is in its batch's entry, which names no record
            query = query.where(sa.or_(audit.c.record == record, audit.c.action == BATCH_ACTION))
        elif limit is not None:
            query = query.limit(limit)
        if full:
            with self._writing("log_full") as w:
                _need_reason(reason, "reading the identified audit trail")
                rows = _batches_shown(w.conn.execute(query).all(), columns, record, limit, full)
                w.append(
                    "log",
                    record=record,
                    new=dumps({"full": True, "entries": len(rows)}),
                    reason=reason,
                )
        else:
            with self._reading("log") as conn:
                rows = _batches_shown(conn.execute(query).all(), columns, record, limit, full)
        frame = pd.DataFrame(rows, columns=columns, dtype=object)
        frame = frame.iloc[::-1].reset_index(drop=True)
        if full:
            return frame
        # a batch's record is de-identified as a create entry's record is
        as_create = (frame["action"] == BATCH_ACTION) & frame["record"].notna()
        frame.loc[as_create, "action"] = "create"
        frame = deidentify_trail(frame, self.schema)
        frame.loc[as_create, "action"] = BATCH_ACTION
        return frame

    # ------------------------------------------------------------------- import

    def import_frame(
        self,
        raw: pd.DataFrame,
        *,
        reason: str,
        source: str | None = None,
        strict: bool = False,
        exclusive: bool = False,
    ) -> ImportResult:
        """Validate a table of new records and store every valid row in one transaction.

        Parameters
        ----------
        raw
            One row per patient, as for :func:`kypho.validation.validate`.
        reason
            Why the data are imported; recorded in the trail.
        source
            Where the data came from (a file name), recorded in the trail.
        strict
            If true, any rejected row aborts the whole import.
        exclusive
            The caller's promise that no other thread of this process opens the
            store while the import runs (``kypho db import`` keeps it; a web
            server does not). On a SQLite store file the transaction is then run
            by ADBC's SQLite driver, which writes the records straight into the
            store, in about half the time (:mod:`kypho.store._sqlite_direct`
            says why the promise is needed). Otherwise the records go through a
            scratch file. The result and what is stored are the same.

        Returns
        -------
        ImportResult
            Counts plus every rejected row and problem. A row whose id is already
            in the store is rejected (``problem == "exists"``): an import never
            overwrites a record; :meth:`edit` changes it, with a reason.

        Raises
        ------
        ValidationError
            With ``strict=True``, if any row is rejected (nothing is stored).
        ColumnError
            If a required column is missing.
        PermissionDenied
            If the user may not import.
        """
        from kypho.validation import validate

        if not reason or not reason.strip():
            raise StoreError("an import needs a reason (e.g. 'baseline data from ward 3')")
        with self._reading("import"):
            pass  # refuse a user without the right before validating a large file
        ids = self._block_ids(raw, strict=strict, exclusive=exclusive)
        if ids is not None:
            with self._importing(exclusive=exclusive) as w:
                if not self._existing_ids(w, ids):
                    return self._import_blocks(w, raw, reason=reason, source=source)
                # a row's id is stored already: the whole file's path, which says so
                return self._import_validated(
                    w, raw, validate(raw, self.schema, strict=True), reason, source, strict
                )
        result = validate(raw, self.schema, strict=True)
        with self._importing(exclusive=exclusive) as w:
            return self._import_validated(w, raw, result, reason, source, strict)

    def _import_validated(
        self,
        w: _Writer,
        raw: pd.DataFrame,
        result: ValidationResult,
        reason: str,
        source: str | None,
        strict: bool,
    ) -> ImportResult:
        """:meth:`import_frame` of the whole file's validation result, in ``w``'s transaction."""
        data = result.data
        id_col = self.schema.id_column
        problems = result.problems
        rejected = result.rejected
        existing = self._existing_ids(w, data[id_col].astype(object).tolist())
        if existing:
            clash = data[id_col].isin(list(existing)).to_numpy(dtype=bool)
            rows = data.index[clash]
            ids = data[id_col][clash].astype(object).tolist()
            extra = pd.DataFrame(
                {
                    "row": np.asarray(rows, dtype=np.int64),
                    "record": ids,
                    "field": id_col,
                    "value": [repr(i) for i in ids],
                    "problem": "exists",
                    "message": [
                        f"record {i} (row {r}), {id_col!r} is already in the store; "
                        "change the stored record with `kypho db edit`"
                        for i, r in zip(ids, rows, strict=True)
                    ],
                }
            )
            problems = (
                pd.concat([problems.astype(object), extra.astype(object)], ignore_index=True)
                .sort_values(["row", "field"], kind="stable")
                .reset_index(drop=True)
            )
            lost = raw.reset_index(drop=True).iloc[np.asarray(rows, dtype=np.int64) - 1].copy()
            lost.index = rows
            lost.insert(0, "row", np.asarray(rows, dtype=np.int64))
            lost["reasons"] = extra["message"].to_numpy()
            rejected = pd.concat([rejected, lost]).sort_index(kind="stable")
            data = data.loc[~clash]
        if strict and len(rejected):
            lines = "\n".join(f"  {m}" for m in problems["message"])
            raise ValidationError(
                f"{result.n_read} rows read, {len(rejected)} rejected; strict import "
                f"stores nothing:\n{lines}",
                problems=problems,
            )
        imported = ImportResult(
            n_read=result.n_read,
            n_imported=len(data),
            rejected=rejected,
            problems=problems,
            unknown_columns=list(result.unknown_columns),
        )
        _append_import(w, imported, reason, source)
        self._insert(w, data, reason)
        return imported

    def _block_ids(
        self, raw: pd.DataFrame, *, strict: bool, exclusive: bool
    ) -> list[object] | None:
        """The file's ids if :meth:`_import_blocks` gives the whole file's result, else ``None``.

        Validation relates one row to another only by the id column (a shared id
        rejects every row holding it), so blocks of rows validated one after the
        other give the whole file's problems, rejected rows and messages when no
        id is shared, the rows are named by the file's own row numbers (so a
        block names them alike), and (the caller checks) no id is stored yet.
        Only where a block can be stored while kypho validates the next: on
        PostgreSQL with psycopg (the server stores it) and in an exclusive
        import of a SQLite file (ADBC stores it in a second thread); a strict
        import and a file of fewer than two blocks go the whole file's way.
        """
        from kypho.validation import _id_keys, _rows_from_index

        dialect = self.engine.dialect
        postgres = dialect.name == "postgresql" and dialect.driver == "psycopg"
        direct = exclusive and sqlite_file(self.engine) is not None
        if (
            strict
            or not (postgres or direct)
            or len(raw) < 2 * _VALIDATE_ROWS
            or not _rows_from_index(raw)
        ):
            return None
        ids = _id_keys(raw, self.schema)
        if ids is None:
            return None
        present = ids[ids.notna()]
        if present.duplicated().any():
            return None
        listed: list[object] = present.astype(object).tolist()
        return listed

    def _import_blocks(
        self, w: _Writer, raw: pd.DataFrame, *, reason: str, source: str | None
    ) -> ImportResult:
        """:meth:`import_frame` validating and storing the rows a block at a time.

        Each block of :data:`_VALIDATE_ROWS` rows (the first smaller, so that
        storing starts soon) is validated, laid out and handed to
        :meth:`_block_sink`, which stores it while the next block is
        validated. Only when :meth:`_block_ids` allows it: the problems,
        rejected rows, stored rows (in file order) and trail are the whole
        file's (a test compares them on both engines).
        """
        import pyarrow as pa

        from kypho.validation import validate

        n = len(raw)
        edges = [0, *range(min(_FIRST_VALIDATE_ROWS, n), n, _VALIDATE_ROWS), n]
        parts: list[tuple[int, ValidationResult]] = []
        tables: list[pa.Table] = []
        text: str | None = None
        with contextlib.ExitStack() as copying:
            send: Callable[[Sequence[object], int], None] | None = None
            for start, stop in itertools.pairwise(edges):
                part = validate(raw.iloc[start:stop], self.schema, strict=True)
                parts.append((start, part))
                if part.data.empty:
                    continue
                table = records_table(part.data, self.schema, self.tables.data_columns)
                tables.append(table)
                names, columns = _new_record_columns(table)
                if send is None:
                    send = copying.enter_context(self._block_sink(w, names))
                send(columns, table.num_rows)
            stored = pa.concat_tables(tables) if tables else None
            if stored is not None and stored.num_rows > 1:
                # while the last blocks are stored
                text = encode_batch(stored)
        first = parts[0][1]
        problems = [part.problems for _, part in parts if len(part.problems)]
        rejected = []
        for start, part in parts:
            if len(part.rejected):
                shifted = part.rejected.copy(deep=False)
                shifted.index = shifted.index + start
                rejected.append(shifted)
        result = ImportResult(
            n_read=sum(part.n_read for _, part in parts),
            n_imported=sum(len(part.data) for _, part in parts),
            rejected=pd.concat(rejected) if rejected else first.rejected,
            problems=pd.concat(problems, ignore_index=True) if problems else first.problems,
            unknown_columns=list(first.unknown_columns),
        )
        _append_import(w, result, reason, source)
        if stored is not None:
            self._append_created(w, stored, reason, text)
        return result

    @contextmanager
    def _block_sink(
        self, w: _Writer, names: Sequence[str]
    ) -> Iterator[Callable[[Sequence[object], int], None]]:
        """``send(columns, n)`` storing records in ``w``'s transaction beside the caller's work.

        On PostgreSQL the rows go to one binary ``COPY`` (:func:`_binary_copy`),
        which psycopg's writer thread sends while the caller goes on. In an
        import through ADBC (a SQLite file), each call's rows are appended by
        one worker thread, in order (ADBC's append is C and releases the GIL):
        the connection is used by that thread alone until the block ends, when
        every append has ended (an append's error is raised there).
        """
        if w.direct is None:
            with _binary_copy(w.conn, self.tables.records, names) as send:
                yield send
            return
        from concurrent.futures import Future, ThreadPoolExecutor

        direct = w.direct
        records = self.tables.records
        pending: list[Future[None]] = []
        with ThreadPoolExecutor(1, thread_name_prefix="kypho-append") as pool:

            def append(columns: Sequence[object], n: int) -> None:
                pending.append(pool.submit(_insert_columns, direct, records, names, columns, n))

            yield append
            for appended in pending:
                appended.result()

    @contextmanager
    def _importing(self, *, exclusive: bool) -> Iterator[_Writer]:
        """:meth:`_writing` for an import; on a SQLite file with ``exclusive``, through ADBC.

        ADBC's connection takes the write lock, reads the chain's head and the
        role (and, in the caller, the ids already stored), writes the records,
        the entries and the new head, and commits, in one transaction; no
        SQLAlchemy connection is used meanwhile (see
        :mod:`kypho.store._sqlite_direct`).
        """
        import adbc_driver_manager

        path = sqlite_file(self.engine) if exclusive else None
        if path is None:
            with self._writing("import") as w:
                yield w
            return
        chain = self.tables.chain
        try:
            with DirectSqlite(
                path,
                self.engine.dialect,
                busy_seconds=SQLITE_BUSY_TIMEOUT,
                cache_kib=SQLITE_CACHE_KIB,
            ) as direct:
                head = direct.query(sa.select(chain.c.seq, chain.c.hash).where(chain.c.id == 1))
                users = direct.query(self._role_query()).to_pylist()
                row = (users[0]["role"], users[0]["active"]) if users else None
                role = self._checked_role(row, "import")
                if head.num_rows != 1:
                    raise StoreError(
                        f"the store at {_safe_url(self.engine)} has no audit chain head; "
                        "check it with `kypho db verify`"
                    )
                seq, last = head.column(0)[0].as_py(), head.column(1)[0].as_py()
                writer = _Writer(
                    None, self.tables, int(seq), str(last), self.user, role, direct=direct
                )
                yield writer
                writer.flush()
                direct.commit()
        except adbc_driver_manager.Error as exc:
            raise StoreError(
                f"the database at {_safe_url(self.engine)} failed: {exc}; nothing was written"
            ) from exc

    def _existing_ids(self, w: _Writer, ids: Sequence[object]) -> set[str]:
        id_column = self.tables.records.c[self.schema.id_column]
        if w.direct is not None:
            import pyarrow as pa
            import pyarrow.compute as pc

            stored = (
                w.direct.query(sa.select(id_column)).column(0).cast(pa.string()).combine_chunks()
            )
            wanted = pa.array([str(i) for i in ids], pa.string())
            return set(wanted.filter(pc.is_in(wanted, value_set=stored)).to_pylist())
        conn = w.conn
        stored = conn.execute(sa.select(sa.func.count()).select_from(self.tables.records))
        if stored.scalar_one() <= 4 * len(ids) + 10_000:
            # few stored records for the file's size: one query for all their ids
            # costs less than the file's ids sent 900 at a time
            every = {str(v) for v in conn.execute(sa.select(id_column)).scalars()}
            return every.intersection(map(str, ids))
        found: set[str] = set()
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            found.update(
                str(v)
                for v in conn.execute(sa.select(id_column).where(id_column.in_(chunk))).scalars()
            )
        return found

    def _insert(self, w: _Writer, data: pd.DataFrame, reason: str) -> None:
        """Store the new records and the trail's one entry holding them all.

        One record gets its own ``create`` entry (the record as a JSON object);
        more get one entry, :mod:`kypho.store.batch`'s (action ``create_batch``): the
        records' stored values as one Parquet file. It is encoded in a second
        thread while the records go to the database (Arrow's Parquet writer and
        the driver both work mostly outside the GIL), so that the two overlap.
        """
        from concurrent.futures import ThreadPoolExecutor

        if data.empty:  # every row was rejected: no record, no batch
            return
        table = records_table(data, self.schema, self.tables.data_columns)
        names, columns = _new_record_columns(table)
        target: sa.Connection | DirectSqlite = w.direct if w.direct is not None else w.conn
        if table.num_rows == 1:
            # one new record (a web form, a one-row file): its own create entry
            _insert_columns(target, self.tables.records, names, columns, 1)
            self._append_created(w, table, reason)
            return
        with ThreadPoolExecutor(1) as pool:
            batch = pool.submit(encode_batch, table)
            _insert_columns(target, self.tables.records, names, columns, table.num_rows)
            text = batch.result()
        self._append_created(w, table, reason, text)

    def _append_created(
        self, w: _Writer, table: pa.Table, reason: str, text: str | None = None
    ) -> None:
        """The trail's entry of new records ``table`` (as stored), in ``w``'s transaction.

        One record: its own ``create`` entry (the record as a JSON object); more:
        one ``create_batch`` entry, ``text`` if the caller encoded it already.
        """
        if table.num_rows == 1:
            (record,) = table.to_pylist()
            w.append(
                "create",
                record=str(record[self.schema.id_column]),
                new=dumps(record),
                reason=reason,
                version=1,
            )
            return
        batch = text if text is not None else encode_batch(table)
        w.append(BATCH_ACTION, new=batch, reason=reason, version=1)

    # -------------------------------------------------------------------- edits

    def edit(
        self,
        record_id: str,
        changes: Mapping[str, object],
        *,
        expected_version: int,
        reason: str,
    ) -> Record:
        """Change fields of one record; every change is validated and audited.

        Parameters
        ----------
        record_id
            The record's id.
        changes
            ``{field: new value}``; values as in an input file (text or typed).
        expected_version
            The version the caller read (:attr:`Record.version`). If someone
            else changed the record since, nothing is written.
        reason
            Why the record is changed (required).

        Returns
        -------
        Record
            The record after the change (version + 1; unchanged when every new
            value equals the stored one).

        Raises
        ------
        ConflictError
            If the record's version is no longer ``expected_version``.
        LockedError
            If the record is locked.
        ValidationError
            If the changed record breaks the schema; nothing is written.
        ColumnError
            If a field is not an editable schema variable.
        """
        from kypho.validation import validate

        _need_reason(reason, "an edit")
        self._check_fields(changes)
        records = self.tables.records
        id_col = self.schema.id_column
        with self._writing("edit") as w:
            current = self._writable(w.conn, record_id, expected_version)
            checked = affected_columns(self.schema, changes)
            raw = {
                name: _raw_value(value, self.schema[name], self.schema)
                for name, value in current.values.items()
                if name in checked
            }
            raw.update({name: value for name, value in changes.items()})
            result = validate(pd.DataFrame([raw], dtype=object), self.schema, strict=True)
            if result.n_rejected:
                lines = "\n".join(f"  {m}" for m in result.problems["message"])
                raise ValidationError(
                    f"edit of record {record_id} refused, nothing was changed:\n{lines}",
                    problems=result.problems,
                )
            new_values = {
                name: _python_values(result.data[name], self.schema[name])[0] for name in changes
            }
            changed = {
                name: value
                for name, value in new_values.items()
                if dumps(value) != dumps(current.values[name])
            }
            if not changed:
                return current
            version = current.version + 1
            done = w.conn.execute(
                sa.update(records)
                .where(records.c[id_col] == record_id)
                .where(records.c.kypho_version == expected_version)
                .values(**changed, kypho_version=version)
            )
            if done.rowcount != 1:
                raise _conflict(record_id, expected_version, None)
            for name, value in changed.items():
                w.append(
                    "update",
                    record=record_id,
                    field=name,
                    old=dumps(current.values[name]),
                    new=dumps(value),
                    reason=reason,
                    version=version,
                )
            return Record(
                record_id,
                version,
                current.locked,
                current.locked_by,
                {**current.values, **changed},
            )

    def delete(self, record_id: str, *, expected_version: int, reason: str) -> None:
        """Delete one record; the trail keeps its last values.

        Raises
        ------
        ConflictError, LockedError
            As for :meth:`edit`.
        """
        _need_reason(reason, "a delete")
        records = self.tables.records
        with self._writing("delete") as w:
            current = self._writable(w.conn, record_id, expected_version)
            w.conn.execute(sa.delete(records).where(records.c[self.schema.id_column] == record_id))
            w.append(
                "delete",
                record=record_id,
                old=dumps(dict(current.values)),
                reason=reason,
                version=current.version,
            )

    def _writable(self, conn: sa.Connection, record_id: str, expected_version: int) -> Record:
        current = self._get(conn, record_id)
        if current.locked:
            raise LockedError(
                f"record {record_id} is locked (by {current.locked_by}); a user with the "
                "unlock right (admin) must unlock it before it can be changed"
            )
        if current.version != expected_version:
            raise _conflict(record_id, expected_version, current.version)
        return current

    def _check_fields(self, changes: Mapping[str, object]) -> None:
        if not changes:
            raise StoreError("an edit needs at least one field to change")
        for name in changes:
            if name not in self.schema:
                raise ColumnError(
                    f"{name!r} is not a variable of the study schema; see `kypho dictionary`"
                )
            if self.schema[name].derived:
                raise ColumnError(f"{name!r} is derived by kypho and cannot be edited")
            if name == self.schema.id_column:
                raise ColumnError(
                    f"the record id {name!r} cannot be edited; delete the record and "
                    "import it under the new id"
                )

    def lock(self, record_id: str, *, reason: str) -> None:
        """Lock a record: it refuses edits and deletes until unlocked."""
        self._set_lock(record_id, True, reason)

    def unlock(self, record_id: str, *, reason: str) -> None:
        """Unlock a locked record (needs the ``unlock`` right)."""
        self._set_lock(record_id, False, reason)

    def _set_lock(self, record_id: str, locked: bool, reason: str) -> None:
        action = "lock" if locked else "unlock"
        _need_reason(reason, f"a {action}")
        records = self.tables.records
        with self._writing(action) as w:
            current = self._get(w.conn, record_id)
            if current.locked == locked:
                raise StoreError(f"record {record_id} is already {action}ed")
            w.conn.execute(
                sa.update(records)
                .where(records.c[self.schema.id_column] == record_id)
                .values(kypho_locked=locked, kypho_locked_by=self.user if locked else None)
            )
            w.append(action, record=record_id, reason=reason, version=current.version)

    # ------------------------------------------------------------------- export

    def export(
        self, *, full: bool = False, reason: str | None = None, unverified: str | None = None
    ) -> pd.DataFrame:
        """The store's records for use outside it, de-identified unless ``full``.

        The store is verified first (:meth:`verify`); a store that does not
        verify is refused unless ``unverified`` gives a reason to export anyway.

        Parameters
        ----------
        full
            Export identified data as stored (needs the ``export_full`` right and
            a ``reason``). The default applies :func:`kypho.store.deidentify`.
        reason
            Why; recorded in the trail with what was exported.
        unverified
            Why a store that does not verify is exported anyway; recorded in the
            trail's ``export`` entry with the number of problems.

        Returns
        -------
        pandas.DataFrame
            The records, then ``record_version`` and ``record_locked``.

        Raises
        ------
        IntegrityError
            If the store does not verify and ``unverified`` is not given.
        """
        with self._reading("export_full" if full else "export"):
            pass  # refuse a user without the right before verifying a large store
        if full:
            _need_reason(reason, "a full (identified) export")
        # the rows verify compared are the ones exported: one read, one snapshot
        check, stored = self._verify(None, keep=True)
        if not check.ok and not (unverified and unverified.strip()):
            raise check.refusal(
                "nothing was exported",
                "to export anyway, pass --skip-verify REASON (recorded in the audit trail)",
            )
        with self._writing("export_full" if full else "export") as w:
            data, version, locked = self._typed_stored(stored)
            out = data if full else deidentify(data, self.schema)
            out["record_version"] = version
            out["record_locked"] = locked
            what: dict[str, Any] = {
                "full": full,
                "rows": len(out),
                "columns": list(map(str, out.columns)),
            }
            if not check.ok:
                what["unverified"] = {"problems": len(check.problems), "reason": unverified}
            w.append("export", new=dumps(what), reason=reason)
        return out

    def _typed_stored(self, stored: Any) -> tuple[pd.DataFrame, Any, Any]:
        """Rows kept by :meth:`_verify`: the typed data, versions and locks."""
        import pyarrow as pa

        names = self.tables.data_columns
        if isinstance(stored, pa.Table):
            data = typed_frame(stored, self.schema, names)
            version = pd.array(stored.column("kypho_version").to_numpy(), dtype="Int64")
            locked = pd.array(stored.column("kypho_locked").to_numpy(), dtype="boolean")
            return data, version, locked
        width = len(names)
        data = _typed_columns(stored[:width], self.schema, names)
        version = pd.array(stored[width], dtype="Int64")
        locked = pd.array(list(map(bool, stored[width + 1])), dtype="boolean")
        return data, version, locked

    # ---------------------------------------------------------------- migration

    def migrate(self, schema: Schema | None = None) -> list[str]:
        """Bring the store up to kypho's structure and to ``schema``; returns added columns.

        Structure revisions run through Alembic; new schema variables become new
        record columns, recorded as a new schema version and in the trail.
        Needs the ``migrate`` right (admin).
        """
        schema = schema or self.schema
        tables = build_tables(schema)
        with self.engine.begin() as conn:
            chain = tables.chain
            conn.execute(sa.update(chain).where(chain.c.id == 1).values(seq=chain.c.seq))
            head = conn.execute(sa.select(chain.c.seq, chain.c.hash).where(chain.c.id == 1)).one()
            role = self._role(conn, "migrate")
            before = migrate.current_revision(conn)
            migrate.upgrade(conn, schema)
            after = migrate.current_revision(conn)
            version, added = migrate.sync_columns(conn, schema, tables)
            w = _Writer(conn, tables, int(head.seq), str(head.hash), self.user, role)
            if added:
                conn.execute(
                    sa.insert(tables.schema_versions).values(
                        version=version,
                        fingerprint=schema_fingerprint(schema),
                        columns=json.dumps(column_spec(schema)),
                        applied_at=w.at,
                        applied_by=self.user,
                    )
                )
            if added or before != after:
                w.append(
                    "migrate",
                    old=dumps({"revision": before}),
                    new=dumps({"revision": after, "schema_version": version, "added": added}),
                )
            w.flush()
        self.schema = schema
        self.tables = tables
        return added

    # ------------------------------------------------------------------- verify

    def verify(self, *, head: str | None = None) -> VerifyResult:
        """Recompute the audit trail's hash chain and compare every table the rights rest on.

        Parameters
        ----------
        head
            A head hash printed by an earlier ``verify`` and kept outside the
            database: the trail must still contain it (and may extend it). This
            is what catches the removal of the trail's last entries together
            with a rewound head, which no chain kept in the same database shows.

        Returns
        -------
        VerifyResult
            ``ok`` and every problem found: an entry whose content no longer
            matches its hash, a malformed entry, a gap in the sequence, a head
            that does not match the last entry, a kept ``head`` that is not in
            the trail, any record whose stored values, version, lock or lock
            holder differ from those rebuilt by replaying the trail, and any
            user whose role or state in the users table differs from the trail's
            (a row edited, added or deleted behind kypho's back).

        Raises
        ------
        StoreError
            If ``head`` is not a 64-character hexadecimal hash.

        Notes
        -----
        :meth:`VerifyResult.raise_if_failed` turns problems into
        :class:`~kypho.errors.IntegrityError`.
        """
        return self._verify(head)[0]

    def _verify(self, head: str | None, *, keep: bool = False) -> tuple[VerifyResult, Any]:
        """:meth:`verify`; with ``keep``, also the stored rows it compared.

        The rows kept are each record's data columns, ``kypho_version``,
        ``kypho_locked`` and ``kypho_locked_by`` in import order, as one Arrow
        table (or, read by the driver, one list per column; see
        :func:`_stored_table`): what :meth:`export` writes, read once in the
        verified snapshot.
        """
        kept = None if head is None else head.strip().lower()
        if kept is not None and (len(kept) != 64 or any(c not in "0123456789abcdef" for c in kept)):
            raise StoreError(
                "the head hash to check must be the 64 hexadecimal characters "
                f"`kypho db verify` printed (got {head!r})"
            )
        audit = self.tables.audit
        problems: list[str] = []
        records = self.tables.records
        names = self.tables.data_columns
        stored_query = sa.select(
            *(records.c[n] for n in names),
            records.c.kypho_version,
            records.c.kypho_locked,
            records.c.kypho_locked_by,
        ).order_by(records.c.kypho_row)
        types = arrow_types(stored_query) or []
        trail = Trail(dict(zip(names, types, strict=False)), self.schema.id_column)
        kept_seq: int | None = None
        prev = GENESIS
        expected = 1
        n_entries = 0
        with self._reading("verify", snapshot=True) as conn:
            chain = self.tables.chain
            head_query = sa.select(chain.c.seq, chain.c.hash)
            top = conn.execute(head_query).one()
            # the records are read on a second connection in this snapshot while
            # this one reads, hashes and decodes the trail (or were read while the
            # command started: kypho.store._early)
            early = _early.take(self.url)
            reader = _RecordReader(
                conn, stored_query, head_query, top, records.c.kypho_row, early=early
            )
            result = conn.execution_options(yield_per=_VERIFY_ROWS).execute(
                sa.select(*(audit.c[name] for name in _STORED_AUDIT)).order_by(audit.c.seq)
            )
            at_seq, at_prev, at_hash = (
                _STORED_AUDIT.index(k) for k in ("seq", "prev_hash", "hash")
            )
            for part in result.partitions():
                # the hashes of a batch at once (chain_hashes), then each entry in turn
                columns = list(zip(*part, strict=True))
                hashes = chain_hashes(
                    columns[at_prev], dict(zip(_STORED_AUDIT, columns, strict=True))
                )
                for row, computed in zip(part, hashes, strict=True):
                    entry = dict(zip(_STORED_AUDIT, row, strict=True))
                    n_entries += 1
                    seq = int(row[at_seq])
                    if seq != expected:
                        problems.append(
                            f"entries {expected} to {seq - 1} are missing from the trail"
                        )
                    if row[at_prev] != prev:
                        problems.append(
                            f"entry {seq} does not follow entry {seq - 1}: the chain is broken"
                        )
                    if computed != row[at_hash]:
                        problems.append(
                            f"entry {seq} ({entry['action']}, record {entry['record']}, "
                            f"{entry['at']}) was altered: its content does not match its hash"
                        )
                    prev = str(row[at_hash])
                    expected = seq + 1
                    if kept is not None and prev == kept:
                        kept_seq = seq
                    _replay_entry(trail, entry, problems, early)
            if int(top.seq) != expected - 1 or top.hash != prev:
                problems.append(
                    f"the trail ends at entry {expected - 1} but its head records entry "
                    f"{top.seq}: entries were removed or added behind kypho's back"
                )
            stored = reader.result()
            n_records = compare(stored, names, self.schema.id_column, trail, problems)
            self._compare_users(conn, trail.users, problems)
        if kept is not None and kept_seq is None:
            problems.append(
                f"the head hash you kept ({kept[:16]}...) is not in the trail: entries were "
                "removed or the trail was rewritten since you kept it"
            )
        check = VerifyResult(
            ok=not problems,
            n_entries=n_entries,
            n_records=n_records,
            head_hash=prev,
            problems=tuple(problems),
            kept_seq=kept_seq,
        )
        return check, (stored if keep else None)

    def _compare_users(
        self, conn: sa.Connection, users: dict[str, tuple[str, bool]], problems: list[str]
    ) -> None:
        table = self.tables.users
        stored = {
            str(row.name): (str(row.role), bool(row.active))
            for row in conn.execute(sa.select(table.c.name, table.c.role, table.c.active))
        }
        for name in sorted(set(stored) | set(users)):
            if name not in users:
                problems.append(
                    f"user {name!r} is in the users table but the audit trail never added them"
                )
                continue
            if name not in stored:
                problems.append(
                    f"user {name!r} is in the audit trail but missing from the users table"
                )
                continue
            (role, active), (logged_role, logged_active) = stored[name], users[name]
            if role != logged_role:
                problems.append(
                    f"user {name!r} has role {role} in the users table but {logged_role} in "
                    "the audit trail"
                )
            if active != logged_active:
                state = {True: "enabled", False: "disabled"}
                problems.append(
                    f"user {name!r} is {state[active]} in the users table but "
                    f"{state[logged_active]} in the audit trail"
                )


def _batches_shown(
    rows: Sequence[Any], columns: Sequence[str], record: str | None, limit: int | None, full: bool
) -> list[tuple[Any, ...]]:
    """Trail rows (newest first) as ``log`` shows them: each batch as one entry.

    With ``record``, only the batches holding that record are kept, each as the
    record's creation with the record's values only (JSON, as a ``create``
    entry's), then the last ``limit`` entries. Without it, a batch's records
    are left out unless ``full``: its value is then the batch's JSON object
    without the Parquet file (column names, count, first and last record id).
    A batch that cannot be decoded is shown as it is stored with ``full``, and
    by its summary (or nothing) otherwise; ``verify`` reports it.
    """
    out: list[tuple[Any, ...]] = []
    at_action, at_record, at_new = (columns.index(k) for k in ("action", "record", "new_value"))
    for row in rows:
        values = list(row)
        if values[at_action] != BATCH_ACTION:
            out.append(tuple(values))
            continue
        text = str(values[at_new])
        if record is not None:
            shown = _batch_record(text, record)
            if shown is None:
                continue
            values[at_record], values[at_new] = record, shown
        elif not full:
            values[at_new] = _batch_summary(text)
        out.append(tuple(values))
    return out[:limit] if record is not None and limit is not None else out


def _batch_record(text: str, record: str) -> str | None:
    """``record``'s values in a batch entry's text (JSON, sorted keys), or ``None``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        # the ids first: most batches of a store with several imports lack the record
        ids = decode_batch(text, columns=[]).column(0)
        found = pc.index(ids, pa.scalar(record, ids.type)).as_py()
        if found < 0:
            return None
        table = decode_batch(text)
    except StoreError:
        return None
    (values,) = table.slice(found, 1).to_pylist()
    return dumps(values)


def _batch_summary(text: str) -> str | None:
    """A batch entry's JSON object without its records (the Parquet file)."""
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    return dumps({k: v for k, v in found.items() if k != "parquet"})


def _replay_entry(
    trail: Trail,
    entry: Mapping[str, Any],
    problems: list[str],
    early: _early.Prefetch | None = None,
) -> None:
    """Apply one entry to ``trail``; an entry that cannot be applied is a problem.

    ``early``: a command's early read, whose decoded batch is taken when its
    text is this entry's (the same text decodes to the same records).
    """
    if entry["action"] == BATCH_ACTION:
        text = str(entry["new_value"])
        try:
            decoded = None if early is None else early.batch(int(entry["seq"]), text)
            trail.apply(entry, batch=decode_batch(text) if decoded is None else decoded)
        except (StoreError, ValueError, TypeError, KeyError) as exc:
            why = exc.args[0] if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
            problems.append(
                f"entry {entry['seq']} ({BATCH_ACTION}) is malformed and cannot be replayed: {why}"
            )
        return
    try:
        trail.apply(entry)
    except MalformedCreate as bad:
        problems.append(bad.problem())
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
            trail.apply(entry)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        problems.append(
            f"entry {entry['seq']} ({entry['action']}, record {entry['record']}) is "
            f"malformed and cannot be replayed: {type(exc).__name__}: {exc}"
        )


class _RecordReader:
    """The stored records read as one typed Arrow table, beside the caller.

    ``conn`` holds the caller's read transaction (its snapshot) and ``top`` the
    trail's head it saw. On PostgreSQL each thread reads its half of the rows
    (by ``order``, from :data:`kypho.store._early.SPLIT_ROWS` rows; else one
    thread reads them all) on a connection of its own in the caller's exported
    snapshot, by ADBC (else COPY TO in CSV; see :mod:`kypho.store._reading`).
    With ``early`` (the rows a command read while it started,
    :mod:`kypho.store._early`, both engines) they are used unless they are not
    the ones of this snapshot (another head) or cannot be typed. :meth:`result`
    gives the table or, on SQLite without ``early`` and when a part could not
    be read exactly, all the rows read by the driver on ``conn`` (one list of
    Python values per column).
    """

    def __init__(
        self,
        conn: sa.Connection,
        query: sa.Select[Any],
        head: sa.Select[Any],
        top: Any,
        order: sa.ColumnElement[Any],
        *,
        early: _early.Prefetch | None = None,
    ) -> None:
        import threading

        self.conn, self.query, self.head, self.top, self.order = conn, query, head, top, order
        self.early = early
        self.threads: list[threading.Thread] = []
        self.parts: list[Any] = [None]
        if early is None:
            self._start()

    def _start(self) -> None:
        import threading

        conn, query = self.conn, self.query
        if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
            # SQLite: read by the driver. ADBC's SQLite is a second copy of the
            # SQLite library, and POSIX locks belong to the process: its
            # connection ending its read (or closing) while this one holds a
            # lock would drop that lock (sqlite.org/howtocorrupt.html §2.2). Only
            # a command that owns the process reads by ADBC, before the store is
            # opened (kypho.store._early).
            return
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        # a large table in two halves of ``order`` (the import order), each read
        # on its own connection: two cores read it in about half the time
        order = self.order
        low, high, n = conn.execute(
            sa.select(sa.func.min(order), sa.func.max(order), sa.func.count())
        ).one()
        queries = [query]
        if n >= _early.SPLIT_ROWS and high > low:
            middle = (int(low) + int(high)) // 2
            queries = [query.where(order <= middle), query.where(order > middle)]
        self.parts = [None] * len(queries)
        for k, part in enumerate(queries):
            thread = threading.Thread(
                target=self._read,
                args=(k, part, conn.engine, self.head, tuple(self.top), snapshot),
                daemon=True,
            )
            thread.start()
            self.threads.append(thread)

    def _read(
        self,
        k: int,
        query: sa.Select[Any],
        engine: sa.Engine,
        head: sa.Select[Any],
        top: tuple[Any, ...],
        snapshot: Any,
    ) -> None:
        try:
            self.parts[k] = postgresql_table(engine, query, snapshot)
            if self.parts[k] is not None:
                return
            with engine.connect() as other:
                other = other.execution_options(isolation_level="REPEATABLE READ")
                other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                self.parts[k] = copied_table(other, query, _driver)
                other.rollback()
        except Exception:  # read by the driver instead, whose errors are reported
            self.parts[k] = None

    def _early_table(self) -> Any:
        """The rows read early, as this query's columns and types, or ``None``."""
        if self.early is None:
            return None
        import pyarrow as pa

        parts = self.early.records(tuple(self.top))
        types = arrow_types(self.query)
        names = [column.name for column in self.query.selected_columns]
        if parts is None or types is None:
            return None
        typed = []
        for part in parts:
            if not set(names) <= set(part.column_names):
                return None
            typed.append(cast_columns(part.select(names), types, names))
        if any(part is None for part in typed):
            return None
        return typed[0] if len(typed) == 1 else pa.concat_tables(typed)

    def result(self) -> Any:
        import pyarrow as pa

        if self.early is not None:
            table = self._early_table()
            self.early = None
            if table is not None:
                return table
            self._start()
        for thread in self.threads:
            thread.join()
        if all(part is not None for part in self.parts):
            return self.parts[0] if len(self.parts) == 1 else pa.concat_tables(self.parts)
        rows = self.conn.execute(self.query).all()
        if not rows:
            return [[] for _ in self.query.selected_columns]
        columns = [list(values) for values in zip(*rows, strict=True)]
        table = _driver_table(columns, self.query)
        return columns if table is None else table


#: The Python type of each Arrow type's values as the driver gives them.
_DRIVER_TYPES = {"double": float, "int64": int, "bool": bool, "date32[day]": dt.date}


def _driver_table(columns: list[list[Any]], query: sa.Select[Any]) -> Any:
    """The driver's values as the Arrow table the readers give, or ``None``.

    Only when every value is of its column's own type (a float in a number
    column, an int in a whole-number one, a bool, a date, text; or missing):
    the table then holds exactly the driver's values, and verify compares it
    column by column as it does the readers' tables, instead of through each
    record's JSON. Anything else (a value of another type stored behind kypho's
    back) keeps the lists, whose values verify reports as before.
    """
    import pyarrow as pa

    types = arrow_types(query)
    if types is None:
        return None
    arrays = []
    for values, kind in zip(columns, types, strict=True):
        wanted = str if pa.types.is_large_string(kind) else _DRIVER_TYPES.get(str(kind))
        if wanted is None or not set(map(type, values)) <= {wanted, type(None)}:
            return None
        try:
            arrays.append(pa.array(values, kind))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            return None
    return pa.table(arrays, names=[column.name for column in query.selected_columns])


def _append_import(w: _Writer, result: ImportResult, reason: str, source: str | None) -> None:
    """The trail's ``import`` entry: where the rows came from and what became of them."""
    w.append(
        "import",
        new=dumps(
            {
                "source": source,
                "rows_read": result.n_read,
                "imported": result.n_imported,
                "rejected": result.n_rejected,
                "unknown_columns": list(result.unknown_columns),
            }
        ),
        reason=reason,
    )


def _new_record_columns(table: pa.Table) -> tuple[tuple[str, ...], list[object]]:
    """The records table's column names and columns for new records ``table``.

    :func:`kypho.store.batch.records_table`'s columns, then the bookkeeping every
    new record starts with: version 1, not locked.
    """
    return (*table.column_names, "kypho_version", "kypho_locked"), [*table.columns, 1, False]


def _count(n: int, noun: str) -> str:
    """``"1 problem"``, ``"2 problems"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@contextmanager
def _driver(conn: sa.Connection, statement: str) -> Iterator[Any]:
    """The driver's own connection under ``conn``, its errors wrapped as SQLAlchemy's.

    Wrapped as SQLAlchemy wraps the errors of the statements it runs itself, so
    that a refused row is the same :class:`~kypho.errors.StoreError` whichever
    way it was sent.
    """
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover - a connection SQLAlchemy has closed
        raise StoreError("the database connection was closed while in use")
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        yield raw
    except dbapi_error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi_error) from exc


def _bulk_insert(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """INSERT many rows of driver-ready values with one executemany.

    The statement is SQLAlchemy Core's INSERT for ``table`` compiled for the
    connection's dialect; the rows go to the driver's executemany as they come
    (an iterator is not turned into a list first). SQLAlchemy's own executemany
    processes every bind value of every row in Python, which costs about three
    times the driver's work on a table as wide as the record table, so callers
    pass values the driver already takes (see :func:`_driver_values`).
    """
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy_rows(conn, table, columns, list(rows))
        return
    compiled = sa.insert(table).compile(
        dialect=conn.dialect, column_keys=list(columns), for_executemany=True
    )
    params: Iterable[Any]
    if compiled.positional and compiled.positiontup is not None:
        where = {name: i for i, name in enumerate(columns)}
        order = [where[name] for name in compiled.positiontup]
        if order == list(range(len(columns))):
            params = rows
        else:
            params = (tuple(row[i] for i in order) for row in rows)
    else:
        params = (dict(zip(columns, row, strict=True)) for row in rows)
    with _driver(conn, compiled.string) as raw:
        cursor = raw.cursor()
        try:
            cursor.executemany(compiled.string, params)
        finally:
            cursor.close()


def _insert_columns(
    conn: sa.Connection | DirectSqlite,
    table: sa.Table,
    names: Sequence[str],
    columns: Sequence[Sequence[object] | object],
    n: int,
) -> None:
    """INSERT ``n`` rows given column by column.

    A column is a list, range or tuple of driver-ready values, a pyarrow array
    or chunked array (of :func:`kypho.store.batch.records_table`'s types), or
    one value for every row.

    In an import's ADBC transaction on a SQLite file (``conn`` a
    :class:`~kypho.store._sqlite_direct.DirectSqlite`), ADBC appends the
    columns as one Arrow table. On PostgreSQL with psycopg, one binary ``COPY ... FROM STDIN`` in the open
    transaction (:func:`_copy_binary`); on SQLite, Arrow columns go by way of a
    scratch file (:func:`_sqlite_ingest`); otherwise one executemany of the
    rows zipped from the columns as the driver asks for them.
    """
    if n == 0:
        return
    import pyarrow as pa

    if isinstance(conn, DirectSqlite):
        conn.append(
            table,
            pa.table(
                {
                    name: c
                    if isinstance(c, pa.Array | pa.ChunkedArray)
                    else pa.array(list(c))
                    if isinstance(c, list | range | tuple)
                    else pa.array(np.full(n, c))
                    for name, c in zip(names, columns, strict=True)
                }
            ),
        )
        return
    # the other paths take each column as one array
    columns = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
    arrays = [c for c in columns if isinstance(c, pa.Array)]
    if (
        conn.dialect.name == "sqlite"
        and arrays
        and not any(isinstance(c, list | range | tuple) for c in columns)
    ):
        _sqlite_ingest(conn, table, names, columns, n)
        return
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        sqlite = conn.dialect.name == "sqlite"
        lists = [
            _driver_values(c, sqlite=sqlite)
            if isinstance(c, pa.Array)
            else c
            if isinstance(c, list | range | tuple)
            else itertools.repeat(c, n)
            for c in columns
        ]
        _bulk_insert(conn, table, names, zip(*lists, strict=True))
        return
    _copy_binary(conn, table, names, columns, n)


def _copy_binary(
    conn: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    columns: Sequence[Sequence[object] | object],
    n: int,
) -> None:
    """``COPY ... FROM STDIN (FORMAT binary)`` of columns (see :func:`_insert_columns`)."""
    with _binary_copy(conn, table, names) as send:
        send(columns, n)


@contextmanager
def _binary_copy(
    conn: sa.Connection, table: sa.Table, names: Sequence[str]
) -> Iterator[Callable[[Sequence[object], int], None]]:
    """One ``COPY ... FROM STDIN (FORMAT binary)`` in the open transaction, fed in parts.

    Yields ``send(columns, n)``, which writes ``n`` rows given column by column
    (a pyarrow array or chunked array, a list, range or tuple, or one value
    for every row), and may be called again with the next rows. The rows go in
    blocks of :data:`_COPY_ROWS`, each built by :func:`kypho.store.pgcopy.rows`
    and handed to psycopg's queued writer, whose thread sends it while the next
    block is built: the server parses block *k* while kypho builds block
    *k* + 1. The statement ends when the block ends; an exception aborts it
    (the server then refuses the transaction, which is rolled back).
    """
    import pyarrow as pa
    from psycopg.copy import QueuedLibpqWriter

    from kypho.store import pgcopy

    kinds = [pgcopy.column_kind(table.c[name].type) for name in names]
    preparer = conn.dialect.identifier_preparer
    statement = (
        f"COPY {preparer.format_table(table)} "
        f"({', '.join(preparer.quote(name) for name in names)}) FROM STDIN (FORMAT binary)"
    )
    with (
        _driver(conn, statement) as raw,
        raw.cursor() as cursor,
        cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
    ):

        def send(columns: Sequence[object], n: int) -> None:
            arrays = [
                c.combine_chunks()
                if isinstance(c, pa.ChunkedArray)
                else pa.array(list(c))
                if isinstance(c, list | range | tuple)
                else c
                for c in columns
            ]
            for start in range(0, n, _COPY_ROWS):
                size = min(_COPY_ROWS, n - start)
                block = [a.slice(start, size) if isinstance(a, pa.Array) else a for a in arrays]
                copy.write(pgcopy.rows(kinds, block, size))

        copy.write(pgcopy.HEADER)
        yield send
        copy.write(pgcopy.TRAILER)


def _sqlite_ingest(
    conn: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    columns: Sequence[object],
    n: int,
) -> None:
    """INSERT Arrow columns into a SQLite table by way of a scratch database.

    ADBC's SQLite driver writes the Arrow columns, in C, to a new scratch file
    (no journal, no sync: it is thrown away); the open transaction attaches it
    and copies the rows with one ``INSERT ... SELECT`` in their order, so the
    records are written in the import's own transaction, as before. The file
    is unlinked as soon as it is attached (SQLite reads it through the open
    handle) and detached when the connection goes back to the pool (see
    :mod:`kypho.store.engine`). This costs about a third of an executemany of
    the same rows, which converts and binds every value in Python. The scratch
    file is made in the store file's own folder (the system's temporary folder
    for an in-memory store): a process killed before the attach leaves it
    there, readable by its owner only, next to the store it belongs to.
    """
    import tempfile

    import adbc_driver_manager
    import adbc_driver_sqlite
    import pyarrow as pa

    arrays = {name: c for name, c in zip(names, columns, strict=True) if isinstance(c, pa.Array)}
    constants = [(name, c) for name, c in zip(names, columns, strict=True) if name not in arrays]
    # beside the store's own file, so that a scratch file a killed import leaves
    # behind lies under the same folder rights as the identified records it holds
    database = conn.engine.url.database
    folder = (
        os.path.dirname(os.path.abspath(database)) if database and database != ":memory:" else None
    )
    handle, path = tempfile.mkstemp(prefix="kypho-import-", suffix=".db", dir=folder)
    os.close(handle)
    try:
        try:
            with (
                adbc_driver_sqlite.connect(path) as db,
                adbc_driver_manager.AdbcConnection(db) as scratch,
            ):
                # big pages and one lock: ~15 % less CPU than the defaults at 10⁵
                pragmas = ("page_size = 65536", "journal_mode = OFF", "synchronous = OFF")
                for pragma in (*pragmas, "locking_mode = EXCLUSIVE"):
                    with adbc_driver_manager.AdbcStatement(scratch) as statement:
                        statement.set_sql_query(f"PRAGMA {pragma}")
                        statement.execute_update()
                with adbc_driver_manager.AdbcStatement(scratch) as statement:
                    statement.set_options(
                        **{
                            adbc_driver_manager.INGEST_OPTION_TARGET_TABLE: "records",
                            adbc_driver_manager.INGEST_OPTION_MODE: (
                                adbc_driver_manager.INGEST_OPTION_MODE_CREATE
                            ),
                        }
                    )
                    statement.bind_stream(pa.table(arrays).to_reader())
                    statement.execute_update()
        except adbc_driver_manager.Error as exc:
            raise StoreError(
                f"could not write the records to a scratch file {path}: {exc}; nothing was written"
            ) from exc
        preparer = conn.dialect.identifier_preparer
        conn.exec_driver_sql(f"ATTACH DATABASE ? AS {SQLITE_IMPORT_SCHEMA}", (path,))
    finally:
        os.unlink(path)
    target = ", ".join(preparer.quote(name) for name in (*arrays, *(c for c, _ in constants)))
    source = ", ".join([*(preparer.quote(name) for name in arrays), *("?" for _ in constants)])
    conn.exec_driver_sql(
        f"INSERT INTO main.{preparer.format_table(table)} ({target}) "
        f"SELECT {source} FROM {SQLITE_IMPORT_SCHEMA}.records ORDER BY rowid",
        tuple(value for _, value in constants),
    )


def _driver_values(values: Any, *, sqlite: bool) -> list[Any]:
    """An Arrow column as the driver's Python values (``None`` for null).

    Text and dates are built from their distinct values, so that a repeated
    value is one Python object; on SQLite a date is its ``YYYY-MM-DD`` text, as
    SQLAlchemy's SQLite ``DATE`` stores it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.type
    if pa.types.is_date32(kind) and sqlite:
        values, kind = pc.cast(values, pa.string()), pa.string()
    if pa.types.is_string(kind) or pa.types.is_date32(kind):
        coded = values.dictionary_encode()
        distinct = np.empty(len(coded.dictionary) + 1, dtype=object)
        distinct[:-1] = coded.dictionary.to_pylist()
        where = pc.fill_null(coded.indices, len(coded.dictionary)).to_numpy(zero_copy_only=False)
        texts: list[Any] = distinct[where].tolist()
        return texts
    plain: list[Any] = values.to_pylist()
    return plain


#: Rows of one binary COPY block: small enough that the server starts early and
#: the block in memory stays a few MB, large enough to amortise the per-block work.
_COPY_ROWS = 10_000


def _copy_rows(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """``COPY ... FROM STDIN`` of driver-ready rows on PostgreSQL, in the open transaction.

    psycopg formats each value as COPY's text format wants it (escapes, ``\\N``
    for None, dates, a float's shortest exact form); the server parses the
    stream in one statement, which is many times faster than one INSERT per row.
    """
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(preparer.quote(name) for name in columns)
    statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    with _driver(conn, statement) as raw, raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _conflict(record_id: str, expected: int, actual: int | None) -> ConflictError:
    now_text = f"it is now version {actual}" if actual is not None else "it has changed since"
    return ConflictError(
        f"record {record_id} was changed by someone else since you read it (you read "
        f"version {expected}, {now_text}); nothing was written: reload the record and "
        "apply your change again"
    )


def affected_columns(schema: Schema, changed: Iterable[str]) -> set[str]:
    """The columns an edit of ``changed`` must re-validate.

    The changed columns, the other side of every cross-field rule comparing one
    of them, and the id and required columns (which validation needs present).
    The record's other columns passed validation when they were stored and a
    change elsewhere cannot affect them; leaving them out makes an edit's
    validation cost grow with the change, not with the width of the record.
    """
    names = set(changed)
    for rule in schema.rules:
        if rule.left in names or rule.right in names:
            names.update((rule.left, rule.right))
    names.add(schema.id_column)
    names.update(v.name for v in schema.input_variables if v.required)
    return names


def _need_reason(reason: str | None, what: str) -> None:
    if reason is None or not reason.strip():
        raise StoreError(f"{what} needs a reason, recorded in the audit trail (got none)")


def _check_role(role: str) -> None:
    if role not in RIGHTS:
        raise StoreError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")


def _safe_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _raw_value(value: object, var: Variable, schema: Schema) -> object:
    """A stored value as input text for re-validation."""
    if value is None:
        return None
    if var.type == "list" and value == "":
        # "" is an observed empty list; as input it would read as a missing cell
        return schema.none_token
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _python_values(values: pd.Series, var: Variable) -> list[Any]:
    """A typed column as plain Python values for the driver; missing -> ``None``."""
    missing = values.isna().to_numpy(dtype=bool)
    out: list[Any]
    if var.type == "number":
        out = values.to_numpy(dtype=np.float64, na_value=np.nan).tolist()
    elif var.type == "integer":
        out = values.fillna(0).astype(np.int64).to_numpy().tolist()
    elif var.type == "boolean":
        out = values.fillna(False).astype(bool).to_numpy().tolist()
    elif var.type == "date":
        out = list(pd.to_datetime(values).dt.date.to_numpy(dtype=object))
    else:
        out = values.astype(object).to_numpy().tolist()
        out = [str(v) for v in out]
    cells = cast(list[Any], out)
    for i in np.flatnonzero(missing).tolist():
        cells[i] = None
    return cells


def _typed_frame(rows: Sequence[Any], schema: Schema, names: Sequence[str]) -> pd.DataFrame:
    """Stored rows as a frame typed like :func:`kypho.validation.validate`'s accepted data."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return _typed_columns(columns, schema, names)


def _typed_columns(
    columns: Sequence[Sequence[Any]], schema: Schema, names: Sequence[str]
) -> pd.DataFrame:
    """:func:`_typed_frame` of stored values given column by column."""
    out: dict[str, Any] = {}
    for name, values in zip(names, columns, strict=True):
        var = schema[name]
        out[name] = typed_column(
            var, _stored_values(values if isinstance(values, np.ndarray) else list(values), var)
        )
    return pd.DataFrame(out, columns=list(names))


def _stored_values(values: Any, var: Variable) -> Any:
    """A column's stored values as :func:`typed_column` takes them fastest.

    Numbers become a float array (NaN where missing) and free text an Arrow
    array (what pandas' text columns hold), each converted in one call rather
    than value by value; the typed column is the same.
    """
    import pyarrow as pa

    if var.type == "number":
        if isinstance(values, np.ndarray):
            return values.astype(np.float64)
        return pa.array(values, pa.float64()).to_numpy(zero_copy_only=False)
    if pandas_dtype(var) == "string":
        return pa.array(values, pa.string())
    return values


def load_from_store(
    url: str | None = None,
    *,
    user: str | None = None,
    schema: Schema | None = None,
    unverified: str | None = None,
) -> pd.DataFrame:
    """Every record of a study store, typed, for ``kypho analyze --db URL``.

    Parameters
    ----------
    url
        The store's URL (see :func:`kypho.store.resolve_url`); ``None`` uses
        ``$KYPHO_DB_URL`` or ``sqlite:///kypho.db``.
    user
        The acting user, who needs the ``read`` right (every role has it);
        ``None`` uses ``$KYPHO_USER`` or the login name.
    schema
        The schema the store was built with, when it is not kypho's built-in one
        (a store migrated to an extended schema opens only with that schema).
    unverified
        Why a store that does not verify is read anyway; without it such a store
        is refused (the store is verified first, see :meth:`Store.verify`).

    Returns
    -------
    pandas.DataFrame
        One row per record, the schema's input variables as columns, typed as
        :attr:`kypho.validation.ValidationResult.data` (so it can go straight to
        :func:`kypho.measures.derive`, or through ``validate`` again).

    Raises
    ------
    StoreError
        If the URL holds no store, or the user may not read it.
    IntegrityError
        If the store does not verify and ``unverified`` is not given.
    """
    with Store(url, user=user, schema=schema) as store:
        with store._reading("read"):
            pass  # refuse a user without the right before verifying a large store
        # the rows verified are the rows returned: one read, one snapshot
        check, stored = store._verify(None, keep=True)
        if not check.ok and not (unverified and unverified.strip()):
            raise check.refusal("nothing was read", "to read it anyway, pass unverified=REASON")
        return store._typed_stored(stored)[0]
