"""Radiographs in the study store: content-addressed files, blinded reads, accepted measures.

Files are kept beside the database, named by their SHA-256 (``<folder>/ab/abcd…``),
written once and never changed; the database holds what is known about each
(``kypho_images``) and every rater's reads of it (``kypho_reads``), in tables
created by the store's Alembic revision ``r001``. Every upload, saved read,
acceptance and export appends an entry to the store's hash-chained audit trail
in the same transaction, through the same chain head as record changes.

``kypho_images``
    one row per file: its hash, the record, timepoint and view (``lateral`` or
    ``ap``) it shows, media type, size, photometric interpretation and the pixel
    size the file states (and which attribute stated it), who uploaded it, when.
``kypho_reads``
    one row per read of a film by a rater (read 1, and 2 for a repeat): the
    landmarks (or outlines) as JSON, the pixel size used (the file's, or the
    rater's calibration), the measures computed by :mod:`kypho.radiograph`,
    and when it was saved and accepted into the record.

Reads are blinded: :meth:`ImageStore.my_reads` returns the acting rater's own
reads only; all raters' reads together (:meth:`ImageStore.reads_table`, for
reliability) need the ``export`` right, as any data leaving the store.
Which record fields an accepted read fills is declared in
``kypho/data/radiograph.yaml``, never in code.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import yaml

from kypho.errors import DataError, InputFileError, LandmarkError, PermissionDenied, StoreError
from kypho.radiograph import (
    PixelSize,
    RadiographImage,
    calibrate,
    cement_distribution,
    deidentified_copy,
    measure_lateral,
    read_image,
)
from kypho.store.audit import dumps, now
from kypho.store.roles import RIGHTS, ROLES
from kypho.store.store import Record, Store, _Writer

__all__ = [
    "IMAGE_DIR_ENV",
    "METADATA",
    "VIEWS",
    "ImageStore",
    "SavedRead",
    "StoredImage",
    "image_folder",
    "radiograph_plan",
]

#: Environment variable naming the image folder (needed for PostgreSQL stores).
IMAGE_DIR_ENV = "KYPHO_IMAGE_DIR"
#: The films kypho knows: the lateral and the anteroposterior view.
VIEWS: tuple[str, ...] = ("lateral", "ap")

METADATA = sa.MetaData()

images_table = sa.Table(
    "kypho_images",
    METADATA,
    sa.Column("sha256", sa.Text(), primary_key=True),
    sa.Column("record", sa.Text(), nullable=False, index=True),
    sa.Column("timepoint", sa.Text(), nullable=False),
    sa.Column("view", sa.Text(), nullable=False),
    sa.Column("media_type", sa.Text(), nullable=False),
    sa.Column("rows", sa.Integer(), nullable=False),
    sa.Column("columns", sa.Integer(), nullable=False),
    sa.Column("photometric", sa.Text(), nullable=False),
    sa.Column("pixel_column_mm", sa.Double(), nullable=True),
    sa.Column("pixel_row_mm", sa.Double(), nullable=True),
    sa.Column("pixel_size_source", sa.Text(), nullable=True),
    sa.Column("uploaded_by", sa.Text(), nullable=False),
    sa.Column("uploaded_at", sa.Text(), nullable=False),
)

reads_table_ = sa.Table(
    "kypho_reads",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("image", sa.Text(), nullable=False, index=True),
    sa.Column("rater", sa.Text(), nullable=False),
    sa.Column("read_no", sa.Integer(), nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("points", sa.Text(), nullable=False),
    sa.Column("pixel_column_mm", sa.Double(), nullable=True),
    sa.Column("pixel_row_mm", sa.Double(), nullable=True),
    sa.Column("pixel_size_source", sa.Text(), nullable=True),
    sa.Column("measures", sa.Text(), nullable=False),
    sa.Column("saved_at", sa.Text(), nullable=False),
    sa.Column("accepted_at", sa.Text(), nullable=True),
    sa.UniqueConstraint("image", "rater", "read_no", "kind", name="kypho_reads_one_per_read"),
)

# who may do what with films: uploading and reading films change the study's
# data ("edit"); viewing needs "read"; every rater's reads at once, or a file
# leaving kypho, needs "export"
_RIGHT = {"upload": "edit", "read_film": "edit", "view": "read", "all_reads": "export"}
_WHAT = {
    "upload": "upload radiographs",
    "read_film": "read radiographs (place landmarks)",
    "view": "view radiographs",
    "all_reads": "see every rater's reads or export radiographs",
}


@functools.cache
def radiograph_plan() -> dict[str, Any]:
    """``kypho/data/radiograph.yaml``: which record fields an accepted read fills."""
    text = resources.files("kypho.data").joinpath("radiograph.yaml").read_text(encoding="utf-8")
    plan: dict[str, Any] = yaml.safe_load(text)
    return plan


def image_folder(store: Store, folder: str | Path | None = None) -> Path:
    """Where the store's image files live.

    ``folder``, else ``$KYPHO_IMAGE_DIR``, else beside a SQLite database file
    (``study.db`` → ``study-images/``).

    Raises
    ------
    StoreError
        For a database without a file (PostgreSQL, in-memory SQLite) when no folder is given.
    """
    chosen = folder or os.environ.get(IMAGE_DIR_ENV)
    if chosen:
        return Path(chosen)
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        db = Path(str(url.database))
        return db.with_name(f"{db.stem}-images")
    raise StoreError(
        "this store keeps its data in a database server, so radiographs need a folder: "
        f"set {IMAGE_DIR_ENV} (or pass folder=) to a directory the server's users share"
    )


@dataclass(frozen=True)
class StoredImage:
    """What the store knows about one radiograph file."""

    sha256: str
    record: str
    timepoint: str
    view: str
    media_type: str
    rows: int
    columns: int
    photometric: str
    pixel_size: PixelSize | None
    uploaded_by: str
    uploaded_at: str


@dataclass(frozen=True)
class SavedRead:
    """One rater's read of one film, as stored."""

    id: int
    image: str
    rater: str
    read_no: int
    kind: str
    points: Any
    pixel_size: PixelSize | None
    measures: dict[str, Any]
    saved_at: str
    accepted_at: str | None


def _pixel_size(col: object, row: object, source: object) -> PixelSize | None:
    if col is None or row is None:
        return None
    return PixelSize(float(col), float(row), str(source or "given"))  # type: ignore[arg-type]


class ImageStore:
    """The radiographs of a :class:`~kypho.store.Store` and the reads made on them.

    Parameters
    ----------
    store
        The study store; its acting user is the rater.
    folder
        The image folder (see :func:`image_folder`).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from kypho.radiograph import lateral_phantom, phantom_dicom
    >>> tmp = tempfile.mkdtemp()
    >>> store = Store.init(f"{tmp}/study.db", admin="ada")
    >>> _ = store.import_frame(pd.DataFrame({"patient_id": ["P-1"], "group": ["control"],
    ...     "sex": ["female"], "age": [71], "level": ["L1"]}), reason="first")
    >>> films = ImageStore(store)
    >>> phantom = lateral_phantom()
    >>> image = films.upload(phantom_dicom(phantom), record="P-1", timepoint="pre", view="lateral")
    >>> read = films.save_read(image.sha256, phantom.landmarks)
    >>> round(read.measures["anterior_ratio"], 2)
    66.67
    >>> films.accept(read.id).values["ant_height_injured_pre"]
    17.0
    """

    def __init__(self, store: Store, folder: str | Path | None = None) -> None:
        self.store = store
        self.folder = image_folder(store, folder)
        self.plan = radiograph_plan()

    # ------------------------------------------------------------ transactions

    def _role(self, conn: sa.Connection, action: str) -> str:
        users = self.store.tables.users
        row = conn.execute(
            sa.select(users.c.role, users.c.active).where(users.c.name == self.store.user)
        ).first()
        if row is None or not row.active:
            raise PermissionDenied(f"{self.store.user!r} is not an active user of this store")
        role = str(row.role)
        right = _RIGHT[action]
        if right not in RIGHTS.get(role, frozenset()):
            allowed = [r for r in ROLES if right in RIGHTS[r]]
            raise PermissionDenied(
                f"user {self.store.user!r} (role {role}) may not {_WHAT[action]}; "
                f"roles that may: {', '.join(allowed)}"
            )
        return role

    @contextmanager
    def _writing(self, action: str) -> Iterator[_Writer]:
        chain = self.store.tables.chain
        with self.store._database_errors(), self.store.engine.begin() as conn:
            # the chain head first, as every store write: writers queue here
            conn.execute(sa.update(chain).where(chain.c.id == 1).values(seq=chain.c.seq))
            head = conn.execute(sa.select(chain.c.seq, chain.c.hash).where(chain.c.id == 1)).one()
            role = self._role(conn, action)
            writer = _Writer(
                conn, self.store.tables, int(head.seq), str(head.hash), self.store.user, role
            )
            yield writer
            writer.flush()

    @contextmanager
    def _reading(self, action: str) -> Iterator[sa.Connection]:
        with self.store._database_errors(), self.store.engine.connect() as conn:
            self._role(conn, action)
            yield conn

    # ------------------------------------------------------------------ images

    def _path(self, sha: str) -> Path:
        return self.folder / sha[:2] / sha

    def upload(
        self,
        data: bytes,
        *,
        record: str,
        timepoint: str,
        view: str,
        name: str = "the file",
    ) -> StoredImage:
        """Store a radiograph (PNG, JPEG or DICOM) for a record's film.

        Parameters
        ----------
        data
            The file's bytes; kept unchanged, named by their SHA-256.
        record
            The record (patient id) the film belongs to; it must exist.
        timepoint
            The schema timepoint of the film (e.g. ``pre``); a lateral film's
            timepoint must have the radiographic measures in the schema.
        view
            ``"lateral"`` or ``"ap"``.
        name
            The file's name, for messages only (names often hold identifiers:
            kypho does not store them).

        Raises
        ------
        InputFileError
            If the file is not a readable image.
        DataError
            For an unknown record, view or timepoint, or a file already stored
            for another film.
        """
        if view not in VIEWS:
            raise DataError(f"view must be one of {', '.join(VIEWS)} (got {view!r})")
        if view == "lateral":
            self._lateral_fields(timepoint)
        elif timepoint not in self.store.schema.timepoints:
            known = ", ".join(self.store.schema.timepoints)
            raise DataError(f"timepoint {timepoint!r} is not in the schema (known: {known})")
        image = read_image(data, name=name)
        with self._writing("upload") as w:
            self.store._get(w.conn, record)  # an unknown record raises here
            t = images_table
            existing = w.conn.execute(sa.select(t).where(t.c.sha256 == image.sha256)).first()
            if existing is not None:
                if (existing.record, existing.timepoint, existing.view) == (
                    record,
                    timepoint,
                    view,
                ):
                    return _stored(existing)
                raise DataError(
                    f"{name} is already stored for record {existing.record}, {existing.view} film "
                    f"at {existing.timepoint}; the same file cannot show two films"
                )
            at = now()
            size = image.pixel_size
            row = {
                "sha256": image.sha256,
                "record": record,
                "timepoint": timepoint,
                "view": view,
                "media_type": image.media_type,
                "rows": image.rows,
                "columns": image.columns,
                "photometric": image.photometric,
                "pixel_column_mm": None if size is None else size.column_mm,
                "pixel_row_mm": None if size is None else size.row_mm,
                "pixel_size_source": None if size is None else size.source,
                "uploaded_by": self.store.user,
                "uploaded_at": at,
            }
            w.conn.execute(sa.insert(t).values(**row))
            self._write_file(image.sha256, data)
            w.append(
                "image_upload",
                record=record,
                field=f"{view}@{timepoint}",
                new=dumps(
                    {k: v for k, v in row.items() if k not in ("uploaded_by", "uploaded_at")}
                ),
                reason=f"radiograph uploaded ({image.media_type}, {image.columns}x{image.rows} px)",
            )
        return _stored(_RowLike(row))

    def _write_file(self, sha: str, data: bytes) -> None:
        path = self._path(sha)
        if path.exists():
            if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                raise StoreError(
                    f"the stored file {path} does not match its name (SHA-256): it was changed "
                    "outside kypho; restore it from a backup"
                )
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{sha}.partial")
            partial.write_bytes(data)
            os.replace(partial, path)
        except OSError as exc:
            raise InputFileError(f"cannot write the radiograph into {self.folder}: {exc}") from exc

    def images(self, *, record: str | None = None) -> list[StoredImage]:
        """The stored films (of one record, or all), in upload order."""
        t = images_table
        query = sa.select(t).order_by(t.c.uploaded_at, t.c.sha256)
        if record is not None:
            query = query.where(t.c.record == record)
        with self._reading("view") as conn:
            return [_stored(r) for r in conn.execute(query)]

    def image(self, sha: str) -> StoredImage:
        """One film's metadata; :class:`DataError` if the store has no such image."""
        with self._reading("view") as conn:
            return self._image(conn, sha)

    def _image(self, conn: sa.Connection, sha: str) -> StoredImage:
        t = images_table
        row = conn.execute(sa.select(t).where(t.c.sha256 == sha)).first()
        if row is None:
            raise DataError(f"the store holds no radiograph {sha!r}")
        return _stored(row)

    def decoded(self, sha: str) -> RadiographImage:
        """The film decoded for display (checked against its hash)."""
        with self._reading("view") as conn:
            self._image(conn, sha)
        return read_image(self._bytes(sha))

    def _bytes(self, sha: str) -> bytes:
        path = self._path(sha)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"the radiograph file {path} is missing: {exc}") from exc
        if hashlib.sha256(data).hexdigest() != sha:
            raise StoreError(
                f"the radiograph file {path} no longer matches its SHA-256: it was changed outside kypho"
            )
        return data

    def export(self, sha: str, *, reason: str | None = None) -> bytes:
        """A de-identified copy of a film (DICOM: PS3.15 basic profile); audited.

        See :func:`kypho.radiograph.deidentified_copy`. The original never leaves
        the store through kypho.
        """
        with self._writing("all_reads") as w:
            image = self._image(w.conn, sha)
            clean = deidentified_copy(self._bytes(sha))
            w.append(
                "image_export",
                record=image.record,
                field=f"{image.view}@{image.timepoint}",
                new=dumps(
                    {"sha256": sha, "deidentified_sha256": hashlib.sha256(clean).hexdigest()}
                ),
                reason=reason,
            )
        return clean

    # ------------------------------------------------------------------- reads

    def _lateral_fields(self, timepoint: str) -> dict[str, str]:
        fields = {k: v.format(tp=timepoint) for k, v in self.plan["lateral"].items()}
        missing = [f for f in fields.values() if f not in self.store.schema]
        if missing:
            raise DataError(
                f"timepoint {timepoint!r} has no radiographic measures in the schema "
                f"({', '.join(missing[:3])} not declared); lateral films are read at the "
                "timepoints of the height and wedge-angle variables"
            )
        return fields

    def pixel_size_for(
        self,
        sha: str,
        *,
        calibration: tuple[tuple[float, float], tuple[float, float], float] | None = None,
    ) -> PixelSize:
        """The pixel size of a read: a calibration if given, else the file's.

        Raises
        ------
        LandmarkError
            When the file states no pixel size and no calibration is given.
        """
        if calibration is not None:
            start, end, length = calibration
            return calibrate(start, end, length)
        image = self.image(sha)
        if image.pixel_size is None:
            raise LandmarkError(
                "this film states no pixel size (or states 0): calibrate it first by clicking "
                "the two ends of a known length and entering that length in mm"
            )
        return image.pixel_size

    def measure(
        self,
        sha: str,
        points: Any,
        *,
        kind: str = "lateral",
        pixel_size: PixelSize | None = None,
        pattern: str | None = None,
    ) -> dict[str, Any]:
        """The derived numbers of a set of points (nothing is saved).

        ``kind="lateral"``: ``points`` is ``(3, 6, 2)`` (see
        :func:`kypho.radiograph.measure_lateral`); ``kind="cement"``: ``points``
        is ``{"body": [...], "cement": [...]}`` on this film, with ``pattern``.
        """
        image = self.image(sha)
        where = f"record {image.record}, {image.view} film ({image.timepoint})"
        if kind == "lateral":
            if image.view != "lateral":
                raise DataError(f"{where}: vertebral landmarks are placed on the lateral film")
            size = pixel_size or self.pixel_size_for(sha)
            return measure_lateral(np.asarray(points, dtype=float), size, where=where).to_dict()
        if kind == "cement":
            if not (isinstance(points, dict) and "body" in points and "cement" in points):
                raise LandmarkError(
                    f"{where}: outline the vertebral body, then the cement (two outlines)"
                )
            outlines: dict[str, Any] = {image.view: (points["body"], points["cement"])}
            # the grade needs both films: the rater's own outlines of the other film
            other = self._other_outline(image)
            if other is not None:
                outlines.setdefault(other[0], other[1])
            result = cement_distribution(
                pattern, ap=outlines.get("ap"), lateral=outlines.get("lateral")
            )
            area = result.area_ap if image.view == "ap" else result.area_lat

            def known(value: float) -> float | None:  # JSON has no NaN: a film not outlined
                return None if np.isnan(value) else float(value)

            return {
                "area": known(area),
                "view": image.view,
                "area_ap": known(result.area_ap),
                "area_lat": known(result.area_lat),
                "grade": result.grade,
                "note": result.note,
            }
        raise DataError(f"kind must be 'lateral' or 'cement' (got {kind!r})")

    def _other_outline(self, image: StoredImage) -> tuple[str, Any] | None:
        """The acting rater's latest cement outlines on the record's other film, if any."""
        r, t = reads_table_, images_table
        query = (
            sa.select(t.c.view, r.c.points)
            .join(t, t.c.sha256 == r.c.image)
            .where(
                (t.c.record == image.record)
                & (t.c.view != image.view)
                & (r.c.rater == self.store.user)
                & (r.c.kind == "cement")
            )
            .order_by(r.c.id.desc())
            .limit(1)
        )
        with self._reading("view") as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        saved = json.loads(row.points)
        return str(row.view), (saved["body"], saved["cement"])

    def save_read(
        self,
        sha: str,
        points: Any,
        *,
        read_no: int = 1,
        kind: str = "lateral",
        pixel_size: PixelSize | None = None,
        pattern: str | None = None,
    ) -> SavedRead:
        """Save the acting rater's read of a film (replacing an unaccepted one of the same number).

        The measures are computed first: landmarks that cannot be measured are
        refused with the message of :class:`~kypho.errors.LandmarkError` and
        nothing is saved. Audited (``read_save``, with the points).

        Raises
        ------
        DataError
            If this read was already accepted into the record (start read 2 for a repeat).
        """
        if read_no < 1:
            raise DataError(f"read_no is 1 for a first read, 2 for a repeat (got {read_no})")
        size = None
        if kind == "lateral":
            size = pixel_size or self.pixel_size_for(sha)
        measures = self.measure(sha, points, kind=kind, pixel_size=size, pattern=pattern)
        if kind == "cement":
            measures["pattern"] = pattern
        stored_points = np.asarray(points, dtype=float).tolist() if kind == "lateral" else points
        r = reads_table_
        with self._writing("read_film") as w:
            image = self._image(w.conn, sha)
            key = (
                (r.c.image == sha)
                & (r.c.rater == self.store.user)
                & (r.c.read_no == read_no)
                & (r.c.kind == kind)
            )
            old = w.conn.execute(sa.select(r).where(key)).first()
            values = {
                "points": dumps(stored_points),
                "pixel_column_mm": None if size is None else size.column_mm,
                "pixel_row_mm": None if size is None else size.row_mm,
                "pixel_size_source": None if size is None else size.source,
                "measures": dumps(measures),
                "saved_at": now(),
            }
            if old is not None:
                if old.accepted_at is not None:
                    raise DataError(
                        f"read {read_no} of this film by {self.store.user} was accepted into the "
                        f"record on {old.accepted_at}; a repeat read is read {read_no + 1}"
                    )
                w.conn.execute(sa.update(r).where(r.c.id == old.id).values(**values))
                read_id = int(old.id)
            else:
                done = w.conn.execute(
                    sa.insert(r).values(
                        image=sha, rater=self.store.user, read_no=read_no, kind=kind, **values
                    )
                )
                key_values = done.inserted_primary_key
                if key_values is None:
                    raise StoreError("the database did not return the new read's number")
                read_id = int(key_values[0])
            w.append(
                "read_save",
                record=image.record,
                field=f"{image.view}@{image.timepoint}#{kind}{read_no}",
                new=dumps(
                    {"read": read_id, "image": sha, "points": stored_points, "measures": measures}
                ),
                reason=f"read {read_no} saved by {self.store.user}",
            )
            row = w.conn.execute(sa.select(r).where(r.c.id == read_id)).one()
        return _read(row)

    def my_reads(self, sha: str | None = None) -> list[SavedRead]:
        """The acting rater's own reads (blinded: never another rater's)."""
        r = reads_table_
        query = sa.select(r).where(r.c.rater == self.store.user).order_by(r.c.id)
        if sha is not None:
            query = query.where(r.c.image == sha)
        with self._reading("view") as conn:
            return [_read(row) for row in conn.execute(query)]

    def accept(self, read_id: int, *, reason: str | None = None) -> Record:
        """Fill the record's fields from one of the acting rater's reads, with provenance.

        The fields are those of ``kypho/data/radiograph.yaml`` for the film's
        timepoint; the record is changed by :meth:`Store.edit` (validated, with
        optimistic locking, one audited ``update`` per field), and the read is
        marked accepted with an ``read_accept`` audit entry holding the rater,
        the image hash, the landmarks and the pixel size.
        """
        r = reads_table_
        with self._reading("read_film") as conn:
            row = conn.execute(sa.select(r).where(r.c.id == read_id)).first()
            if row is None or row.rater != self.store.user:
                # another rater's read is not visible: blinded
                raise DataError(f"you have no read number {read_id}")
            image = self._image(conn, str(row.image))
        read = _read(row)
        changes = self._changes(read, image)
        record = self.store.get(image.record)
        why = reason or (
            f"radiograph read {read.id} (read {read.read_no}) by {read.rater} of image "
            f"sha256:{image.sha256}"
        )
        updated = self.store.edit(
            image.record, changes, expected_version=record.version, reason=why
        )
        with self._writing("read_film") as w:
            at = now()
            w.conn.execute(sa.update(r).where(r.c.id == read_id).values(accepted_at=at))
            w.append(
                "read_accept",
                record=image.record,
                field=f"{image.view}@{image.timepoint}#{read.kind}{read.read_no}",
                new=dumps(
                    {
                        "read": read.id,
                        "rater": read.rater,
                        "image": image.sha256,
                        "points": read.points,
                        "pixel_size": None
                        if read.pixel_size is None
                        else [
                            read.pixel_size.column_mm,
                            read.pixel_size.row_mm,
                            read.pixel_size.source,
                        ],
                        "fields": {k: v for k, v in changes.items()},
                    }
                ),
                reason=why,
                version=updated.version,
            )
        return updated

    def _changes(self, read: SavedRead, image: StoredImage) -> dict[str, object]:
        if read.kind == "lateral":
            fields = self._lateral_fields(image.timepoint)
            pts = np.asarray(read.points, dtype=float)
            corner = {
                "injured_superior_anterior": pts[1, 0],
                "injured_superior_posterior": pts[1, 2],
                "injured_inferior_anterior": pts[1, 3],
                "injured_inferior_posterior": pts[1, 5],
            }
            out: dict[str, object] = {}
            for key, field in fields.items():
                if key in read.measures:
                    out[field] = float(read.measures[key])
                else:
                    name, axis = key.rsplit("_", 1)
                    out[field] = float(corner[name][0 if axis == "x" else 1])
            return out
        plan = self.plan["cement"]
        area_field = plan["area_ap"] if image.view == "ap" else plan["area_lat"]
        out = {area_field: float(read.measures["area"])}
        if read.measures.get("pattern") is not None:
            out[plan["pattern"]] = read.measures["pattern"]
        return out

    def worklist(self) -> list[tuple[StoredImage, int]]:
        """The films the acting rater still has to read, with the read number due.

        Read 1 of every lateral film this rater has not read; read 2 of those in
        the repeat sample (a seeded hash of the film picks
        ``reads.repeat_fraction`` of them) once read 1 is saved.
        """
        plan = self.plan["reads"]
        fraction, seed = float(plan["repeat_fraction"]), str(plan["repeat_seed"])
        mine = {(r.image, r.read_no) for r in self.my_reads() if r.kind == "lateral"}
        due = []
        for image in self.images():
            if image.view != "lateral":
                continue
            if (image.sha256, 1) not in mine:
                due.append((image, 1))
            elif (image.sha256, 2) not in mine and _in_sample(image.sha256, seed, fraction):
                due.append((image, 2))
        return due

    def raters_done(self) -> dict[str, int]:
        """``{image hash: raters who saved a first read}`` (counts only: no points leave).

        Compared with ``reads.raters`` of ``kypho/data/radiograph.yaml`` (the raters a
        study asks for per film).
        """
        r = reads_table_
        query = (
            sa.select(r.c.image, sa.func.count(sa.distinct(r.c.rater)))
            .where((r.c.read_no == 1) & (r.c.kind == "lateral"))
            .group_by(r.c.image)
        )
        with self._reading("view") as conn:
            return {str(sha): int(n) for sha, n in conn.execute(query)}

    def reads_table(self) -> pd.DataFrame:
        """Every rater's lateral reads, long, for :func:`kypho.radiograph.agreement.reliability`.

        Needs the ``export`` right (the reads of all raters are unblinded here).
        Columns: ``subject`` (record and timepoint), ``rater``, ``read`` and one
        column per measure of :meth:`kypho.radiograph.LateralMeasures.to_dict`.
        """
        r, t = reads_table_, images_table
        query = (
            sa.select(t.c.record, t.c.timepoint, r.c.rater, r.c.read_no, r.c.measures)
            .join(t, t.c.sha256 == r.c.image)
            .where(r.c.kind == "lateral")
            .order_by(r.c.id)
        )
        with self._reading("all_reads") as conn:
            rows = conn.execute(query).all()
        records = []
        for row in rows:
            m = json.loads(row.measures)
            numbers = {
                k: v for k, v in m.items() if isinstance(v, int | float) and "pixel" not in k
            }
            records.append(
                {
                    "subject": f"{row.record} {row.timepoint}",
                    "rater": row.rater,
                    "read": row.read_no,
                    **numbers,
                }
            )
        return pd.DataFrame(records)


class _RowLike:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


def _stored(row: Any) -> StoredImage:
    return StoredImage(
        sha256=str(row.sha256),
        record=str(row.record),
        timepoint=str(row.timepoint),
        view=str(row.view),
        media_type=str(row.media_type),
        rows=int(row.rows),
        columns=int(row.columns),
        photometric=str(row.photometric),
        pixel_size=_pixel_size(row.pixel_column_mm, row.pixel_row_mm, row.pixel_size_source),
        uploaded_by=str(row.uploaded_by),
        uploaded_at=str(row.uploaded_at),
    )


def _read(row: Any) -> SavedRead:
    return SavedRead(
        id=int(row.id),
        image=str(row.image),
        rater=str(row.rater),
        read_no=int(row.read_no),
        kind=str(row.kind),
        points=json.loads(row.points),
        pixel_size=_pixel_size(row.pixel_column_mm, row.pixel_row_mm, row.pixel_size_source),
        measures=json.loads(row.measures),
        saved_at=str(row.saved_at),
        accepted_at=None if row.accepted_at is None else str(row.accepted_at),
    )


def _in_sample(sha: str, seed: str, fraction: float) -> bool:
    digest = hashlib.sha256(f"{seed}\n{sha}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction
