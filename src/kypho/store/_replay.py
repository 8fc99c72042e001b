"""The records as the audit trail rebuilds them, compared with the stored rows (``verify``).

:class:`Trail` applies the entries in order. A record comes from its per-record
``create`` entry (the record's JSON, kept as text until needed) or from an
import's ``create_batch`` entry (its records as a table, :mod:`kypho.store.batch`);
later entries change one field (``update``), delete, lock and unlock records and
add or change users. A batch's record that a later entry touches is taken out of
the batch as JSON text and followed entry by entry from then on.

:func:`compare` then compares the stored table with the trail: each batch's
untouched records column by column, vectorised, and the other records through
their JSON, as every store made before batches. Every difference names the
record, the field and both values, in the order of the stored rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kypho.store.audit import dumps, record_texts

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["MalformedCreate", "Trail", "column_values", "compare"]


class MalformedCreate(Exception):
    """A create entry whose JSON does not give a record (found when it is parsed)."""

    def __init__(self, seq: int, record: str, cause: Exception) -> None:
        super().__init__(seq, record, cause)
        self.seq, self.record, self.cause = seq, record, cause

    def problem(self) -> str:
        return (
            f"entry {self.seq} (create, record {self.record}) is malformed and cannot be "
            f"replayed: {type(self.cause).__name__}: {self.cause}"
        )


@dataclass
class _Batch:
    """One ``create_batch`` entry's records, columns cast to the stored columns' types."""

    seq: int
    version: int
    table: pa.Table
    #: the records later entries took out (followed in :attr:`Trail.state` then)
    gone: set[str] = field(default_factory=set)

    def live_rows(self, id_col: str) -> Any:
        """The rows (NumPy positions) of the records still taken from this batch."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n = self.table.num_rows
        if not self.gone:
            return np.arange(n, dtype=np.int64)
        taken = pa.array(sorted(self.gone), pa.string())
        out = pc.is_in(self.table.column(id_col).cast(pa.string()), value_set=taken)
        return np.flatnonzero(~out.to_numpy(zero_copy_only=False))

    def live(self, id_col: str) -> Any:
        """The ids (Arrow) of the records still taken from this batch."""
        import pyarrow as pa

        return self.table.column(id_col).take(pa.array(self.live_rows(id_col)))


@dataclass
class Trail:
    """The records, versions, locks and users the trail's entries make.

    ``types`` maps each stored record column to its Arrow type (a batch's
    columns are cast to them); ``id_col`` is the record id's column. ``state`` holds a record's JSON text (sorted keys,
    :func:`kypho.store.audit.dumps`), ``created`` the records whose ``create``
    entry's text is not parsed yet (record -> the entry's seq), :attr:`batched`
    a batch record's batch and row.
    """

    types: Mapping[str, pa.DataType]
    id_col: str
    state: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    locks: dict[str, str | None] = field(default_factory=dict)
    users: dict[str, tuple[str, bool]] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    batches: list[_Batch] = field(default_factory=list)
    _index: dict[str, tuple[int, int]] = field(default_factory=dict)
    _indexed: int = 0

    @property
    def batched(self) -> dict[str, tuple[int, int]]:
        """Record -> (batch, row) of every record still taken from a batch.

        Built when first needed (an entry of one record after a batch), so that
        a trail of imports only never makes a Python object per record.
        """
        while self._indexed < len(self.batches):
            number = self._indexed
            batch = self.batches[number]
            rows = batch.live_rows(self.id_col)
            ids = batch.table.column(self.id_col).take(rows).to_pylist()
            self._index.update(zip(map(str, ids), ((number, int(i)) for i in rows), strict=True))
            self._indexed += 1
        return self._index

    def apply(self, entry: Mapping[Any, Any], batch: pa.Table | None = None) -> None:
        """Apply one entry (``batch``: a ``create_batch`` entry's decoded table).

        Raises ValueError, TypeError or KeyError for an entry that cannot be
        applied (``verify`` reports it as malformed); nothing is changed then.
        A ``create`` entry whose JSON does not parse raises :class:`MalformedCreate`
        when a later entry needs it.
        """
        action = entry["action"]
        rid = entry["record"]
        if batch is not None:
            self._add_batch(int(entry["seq"]), int(entry["version"]), batch)
            return
        if (
            self.batches
            and action in ("create", "update", "delete", "lock", "unlock")
            and rid in self.batched
        ):
            self._take_out(rid)
        if rid in self.created and action in ("update", "delete"):
            self.parse_created(rid)
        if action == "create":
            text = entry["new_value"]
            if not isinstance(text, str) or not text.startswith("{") or not isinstance(rid, str):
                raise TypeError("a created record must be a JSON object with a record id")
            version = int(entry["version"])
            # the entry's own text, parsed only when needed: the stored row's JSON is
            # compared with it as text first (dumps() wrote both)
            self.state[rid] = text
            self.versions[rid] = version
            self.locks[rid] = None
            self.created[rid] = int(entry["seq"])
        elif action == "update" and rid in self.state:
            name = entry["field"]
            if not isinstance(name, str):
                raise TypeError("an update names no field")
            values = json.loads(self.state[rid])
            values[name] = json.loads(entry["new_value"])
            version = int(entry["version"])
            self.state[rid] = dumps(values)
            self.versions[rid] = version
        elif action == "delete":
            self.state.pop(rid, None)
            self.versions.pop(rid, None)
            self.locks.pop(rid, None)
        elif action in ("lock", "unlock") and rid in self.state:
            self.locks[rid] = str(entry["user_name"]) if action == "lock" else None
        elif action in ("user_add", "user_role"):
            name, role = entry["field"], json.loads(entry["new_value"])
            if not isinstance(name, str) or not isinstance(role, str):
                raise TypeError("a user entry names no user or no role")
            self.users[name] = (role, self.users[name][1] if action == "user_role" else True)
        elif action in ("user_disable", "user_enable"):
            name = entry["field"]
            self.users[name] = (self.users[name][0], action == "user_enable")

    def parse_created(self, rid: str) -> None:
        """Parse a created record's JSON kept as text; a malformed one is taken back out."""
        seq = self.created.pop(rid)
        try:
            values = json.loads(self.state[rid])
            if not isinstance(values, dict):
                raise TypeError("a created record must be a JSON object with a record id")
        except (ValueError, TypeError) as exc:
            self.state.pop(rid, None)
            self.versions.pop(rid, None)
            self.locks.pop(rid, None)
            raise MalformedCreate(seq, rid, exc) from exc

    def _add_batch(self, seq: int, version: int, table: pa.Table) -> None:
        """A batch's records; each replaces any earlier record of its id."""
        import pyarrow as pa
        import pyarrow.compute as pc

        names = table.column_names
        ids_name = self.id_col
        if not names or names[0] != ids_name:
            raise ValueError(f"a batch's first column must be the record id {ids_name!r}")
        columns = {}
        for name in names:
            if name not in self.types:
                continue  # as a create entry's key that is no stored column: not compared
            try:
                columns[name] = table.column(name).cast(self.types[name])
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise TypeError(
                    f"its column {name!r} holds {table.schema.field(name).type} values, "
                    f"which do not convert to the store's {self.types[name]}"
                ) from exc
        ids_column = columns[ids_name]
        if ids_column.null_count or pc.count_distinct(ids_column).as_py() != len(ids_column):
            raise ValueError("its record ids are not all given and distinct")
        if self.batches or self.state:
            ids = {str(v) for v in ids_column.to_pylist()}
            for rid in self.batched.keys() & ids if self.batches else ():
                self._take_out(rid)
            for rid in self.state.keys() & ids:
                for kept in (self.state, self.versions, self.locks, self.created):
                    kept.pop(rid, None)
        self.batches.append(_Batch(seq, version, pa.table(columns)))

    def take_out_all(self) -> None:
        """Every batch record as a per-record state (to compare by JSON text)."""
        for number, batch in enumerate(self.batches):
            rids = [str(v) for v in batch.table.column(self.id_col).to_pylist()]
            live = [i for i, rid in enumerate(rids) if self.batched.get(rid) == (number, i)]
            if not live:
                continue
            part = batch.table.take(live)
            texts = record_texts([column_values(c) for c in part.columns], part.column_names)
            for i, text in zip(live, texts, strict=True):
                rid = rids[i]
                del self.batched[rid]
                batch.gone.add(rid)
                self.state[rid] = text
                self.versions[rid] = batch.version
                self.locks[rid] = None

    def _take_out(self, rid: str) -> None:
        """A batch's record as a per-record state (JSON text, version, no lock)."""
        number, row = self.batched.pop(rid)
        batch = self.batches[number]
        batch.gone.add(rid)
        (values,) = batch.table.slice(row, 1).to_pylist()
        self.state[rid] = dumps(values)
        self.versions[rid] = batch.version
        self.locks[rid] = None


def column_values(column: Any) -> Any:
    """An Arrow column as the compare of JSON texts takes it (floats: NumPy, NaN missing)."""
    import pyarrow as pa

    if pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False)
        if int(np.isnan(values).sum()) == column.null_count:
            return np.asarray(values, dtype=np.float64)
        # a NaN the table holds itself (not a missing value): keep it a float
    return column.to_pylist()


def _shown(value: object) -> str:
    """A value as the problem lines show it: its JSON, else its repr (a NaN, say)."""
    try:
        return dumps(value)
    except (ValueError, TypeError):
        return repr(value)


def compare(
    stored: pa.Table | Sequence[Sequence[Any]],
    names: Sequence[str],
    id_col: str,
    trail: Trail,
    problems: list[str],
) -> int:
    """Compare the stored records with the trail's; append each difference to ``problems``.

    ``stored`` has the data columns ``names``, then ``kypho_version``,
    ``kypho_locked`` and ``kypho_locked_by``, in import order: an Arrow table, or
    (read by the driver) a list of columns of Python values. Returns the number
    of stored records.
    """
    import pyarrow as pa

    found: list[tuple[int, int, str]] = []
    if isinstance(stored, pa.Table):
        ids = stored.column(id_col)
        _compare_table(stored, names, id_col, trail, found)
    else:
        # the driver's values: every record through its JSON, batches' included
        trail.take_out_all()
        columns = [list(c) for c in stored]
        ids = pa.array([str(v) for v in columns[names.index(id_col)]], pa.large_string())
        rows = []
        for i, rid in enumerate(ids.to_pylist()):
            if rid in trail.state:
                rows.append(i)
            else:
                found.append(
                    (i, -1, f"record {rid} is in the table but the trail never created it")
                )
        columns = [[c[i] for i in rows] for c in columns]
        _compare_texts(columns, [str(ids[i]) for i in rows], rows, names, trail, found)
    found.sort(key=lambda p: (p[0], p[1]))
    problems.extend(text for _, _, text in found)
    for rid in _absent(sorted(trail.created), ids):
        try:
            trail.parse_created(rid)
        except MalformedCreate as bad:
            problems.append(bad.problem())
    missing = _absent(list(trail.state), ids)
    for batch in trail.batches:
        missing.extend(_absent(batch.live(trail.id_col), ids))
    for rid in sorted(missing):
        problems.append(f"record {rid} is in the audit trail but missing from the table")
    return int(pa.compute.count_distinct(ids).as_py()) if len(ids) else 0


def _absent(rids: Any, ids: Any) -> list[str]:
    """The records of ``rids`` (ids, or an Arrow array of them) not among the stored ``ids``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(rids):
        return []
    wanted = rids if isinstance(rids, pa.Array | pa.ChunkedArray) else pa.array(rids, pa.string())
    wanted = wanted.cast(pa.large_string())
    there = pc.is_in(wanted, value_set=ids.cast(pa.large_string())).to_numpy(zero_copy_only=False)
    return [str(wanted[i]) for i in np.flatnonzero(~there).tolist()]


def _compare_table(
    table: pa.Table,
    names: Sequence[str],
    id_col: str,
    trail: Trail,
    found: list[tuple[int, int, str]],
) -> None:
    """The stored table against the trail: batches by column, other records by JSON text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = table.column(id_col).cast(pa.large_string())
    n = len(ids)
    # where each stored row's record comes from: a batch (its number), -2 per-record, -1 none
    source = np.full(n, -1, dtype=np.int64)
    row_of = np.full(n, -1, dtype=np.int64)
    for number, batch in enumerate(trail.batches):
        live = batch.live_rows(trail.id_col)
        if not len(live):
            continue
        keys = batch.table.column(trail.id_col).take(pa.array(live)).cast(pa.large_string())
        at = pc.index_in(ids, value_set=keys)
        hit = at.is_valid().to_numpy(zero_copy_only=False)
        source[hit] = number
        row_of[hit] = live[pc.fill_null(at, 0).to_numpy(zero_copy_only=False)[hit]]
    if trail.state:
        followed = pc.is_in(ids, value_set=pa.array(list(trail.state), pa.large_string()))
        source[(source == -1) & followed.to_numpy(zero_copy_only=False)] = -2
    for i in np.flatnonzero(source == -1).tolist():
        found.append((i, -1, f"record {ids[i]} is in the table but the trail never created it"))
    rows = np.flatnonzero(source == -2)
    if len(rows):
        part = table.take(pa.array(rows))
        columns = [column_values(c) for c in part.columns]
        picked = [str(v) for v in part.column(id_col).to_pylist()]
        _compare_texts(columns, picked, rows.tolist(), names, trail, found)
    for number, batch in enumerate(trail.batches):
        positions = np.flatnonzero(source == number)
        if len(positions):
            _compare_batch(table, names, ids, positions, row_of[positions], batch, found)


def _compare_texts(
    columns: Sequence[Any],
    ids: Sequence[str],
    positions: Sequence[int],
    names: Sequence[str],
    trail: Trail,
    found: list[tuple[int, int, str]],
) -> None:
    """Records followed as JSON text: compared as text, then field by field where they differ."""
    if not ids:
        return
    width = len(names)
    texts = record_texts(columns[:width], names)
    version_of, locked_of, holder_of = columns[width], columns[width + 1], columns[width + 2]
    for i, (rid, text, at) in enumerate(zip(ids, texts, positions, strict=True)):
        logged = trail.state[rid]
        if text != logged and rid in trail.created:
            try:
                trail.parse_created(rid)
            except MalformedCreate as bad:
                found.append((at, -1, bad.problem()))
                found.append(
                    (at, -1, f"record {rid} is in the table but the trail never created it")
                )
                continue
        if text != logged:
            expected = json.loads(logged)
            actual = json.loads(text)
            for k, name in enumerate(names):
                if expected.get(name) != actual.get(name):
                    found.append(
                        (
                            at,
                            k,
                            f"record {rid}, {name!r} is {dumps(actual.get(name))} in the "
                            f"table but {dumps(expected.get(name))} in the audit trail",
                        )
                    )
        _check_state(
            rid,
            at,
            width,
            version_of[i],
            locked_of[i],
            holder_of[i],
            trail.versions[rid],
            trail.locks[rid],
            found,
        )


def _check_state(
    rid: str,
    at: int,
    width: int,
    version: Any,
    locked: object,
    locked_by: object,
    logged_version: int,
    holder: str | None,
    found: list[tuple[int, int, str]],
) -> None:
    """A record's version and lock against the trail's."""
    if int(version) != logged_version:
        found.append(
            (
                at,
                width,
                f"record {rid} has version {version} in the table but "
                f"{logged_version} in the audit trail",
            )
        )
    if bool(locked) != (holder is not None):
        found.append(
            (
                at,
                width + 1,
                f"record {rid} is {'locked' if locked else 'unlocked'} in the "
                "table but not in the audit trail",
            )
        )
    elif holder is not None and locked_by != holder:
        found.append(
            (
                at,
                width + 1,
                f"record {rid} is locked by {locked_by} in the table but by "
                f"{holder} in the audit trail",
            )
        )


def _compare_batch(
    table: pa.Table,
    names: Sequence[str],
    ids: Any,
    positions: Any,
    rows: Any,
    batch: _Batch,
    found: list[tuple[int, int, str]],
) -> None:
    """A batch's untouched records against their stored rows, column by column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    where = pa.array(positions)
    taken = pa.array(rows)
    # the usual case, one import and nothing else: every row in the batch's order
    same_rows = _all_rows(positions, table.num_rows)
    same_order = same_rows and _all_rows(rows, batch.table.num_rows)
    width = len(names)
    for k, name in enumerate(names):
        have = table.column(name) if same_rows else table.column(name).take(where)
        if name in batch.table.column_names:
            want = batch.table.column(name)
            want = want if same_order else want.take(taken)
        else:
            want = pa.nulls(len(positions), have.type)
        for j in np.flatnonzero(_differ(have, want)).tolist():
            i = int(positions[j])
            found.append(
                (
                    i,
                    k,
                    f"record {ids[i]}, {name!r} is {_shown(have[j].as_py())} in the table "
                    f"but {_shown(want[j].as_py())} in the audit trail",
                )
            )
    version = table.column("kypho_version").take(where)
    locked = table.column("kypho_locked").take(where)
    bad = pc.fill_null(pc.not_equal(version, batch.version), True)
    bad = pc.or_(bad, pc.fill_null(locked, True))
    for j in np.flatnonzero(bad.to_numpy(zero_copy_only=False)).tolist():
        i = int(positions[j])
        _check_state(
            str(ids[i]),
            i,
            width,
            version[j].as_py(),
            locked[j].as_py(),
            None,
            batch.version,
            None,
            found,
        )


def _all_rows(positions: Any, n: int) -> bool:
    """Whether ``positions`` are ``0, 1, ..., n - 1``."""
    return len(positions) == n and bool(np.array_equal(positions, np.arange(n)))


def _differ(have: Any, want: Any) -> Any:
    """Where two columns of one type differ: a value against a missing one, or unequal.

    Floats compare as numbers, as the JSON compare of per-record entries does:
    ``-0.0`` equals ``0.0`` (SQLite stores a batch's ``-0.0`` as ``0.0``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    one_missing = pc.xor(have.is_null(), want.is_null()).to_numpy(zero_copy_only=False)
    if pa.types.is_floating(have.type):
        x = have.to_numpy(zero_copy_only=False)
        y = want.to_numpy(zero_copy_only=False)
        both = ~(have.is_null().to_numpy(zero_copy_only=False) | one_missing)
        with np.errstate(invalid="ignore"):
            unequal = x != y
        return one_missing | (both & unequal)
    unequal = pc.fill_null(pc.not_equal(have, want), False).to_numpy(zero_copy_only=False)
    return one_missing | unequal
