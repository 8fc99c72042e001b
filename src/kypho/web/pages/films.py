"""Radiographs in the browser: upload, the viewer, landmarks measured by the server, accept.

The viewer (``templates/film.html`` with ``static/viewer.js``) draws the film on a
canvas and lets the rater place and drag the six points of each vertebra; every
change is sent to ``/films/<sha>/measure``, which computes the numbers with
:mod:`kypho.radiograph` (the one implementation) and answers JSON. Saving and
accepting go through :class:`kypho.store.images.ImageStore` (audited, blinded:
the page only ever receives the acting rater's own reads).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from starlette.responses import JSONResponse, Response

from kypho.errors import DataError, KyphoError, LandmarkError
from kypho.radiograph import HEIGHTS, POINTS, VERTEBRAE, PixelSize, calibrate
from kypho.store.images import VIEWS, ImageStore, StoredImage
from kypho.web.app import redirect
from kypho.web.pages.records import record_url
from kypho.web.routing import Ctx, route

_SHA = {"sha": "0" * 64}


def _films(ctx: Ctx) -> ImageStore:
    folder = ctx.web.extra.get("image_folder")
    return ImageStore(ctx.acting(), folder)


def _sha(ctx: Ctx) -> str:
    sha = ctx.params.get("sha", "")
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise DataError("no such radiograph")
    return sha


@route("/films", right="read")
def films_page(ctx: Ctx) -> Response:
    """Every stored film, the rater's worklist and the upload form."""
    films = _films(ctx)
    images = films.images()
    due = films.worklist() if ctx.can("edit") else []
    return ctx.render(
        "films.html",
        title="Radiographs",
        images=images,
        due=due,
        done=films.raters_done(),
        wanted=int(films.plan["reads"]["raters"]),
        views=VIEWS,
        record_url=record_url,
        message=ctx.query.get("message", ""),
    )


@route("/films/upload", right="edit", methods=("POST",))
def upload(ctx: Ctx) -> Response:
    """Store an uploaded film (PNG, JPEG, DICOM) for a record, timepoint and view."""
    if "file" not in ctx.uploads:
        raise DataError("choose a radiograph file (PNG, JPEG or DICOM) to upload")
    name, data = ctx.uploads["file"]
    image = _films(ctx).upload(
        data,
        record=ctx.get("record").strip(),
        timepoint=ctx.get("timepoint").strip(),
        view=ctx.get("view").strip(),
        name=name,
    )
    return redirect(f"/films/{image.sha256}")


def _view_data(image: StoredImage, films: ImageStore) -> dict[str, Any]:
    decoded = films.decoded(image.sha256)
    size = image.pixel_size
    return {
        "sha": image.sha256,
        "rows": image.rows,
        "columns": image.columns,
        "center": decoded.window_center,
        "width": decoded.window_width,
        "max": int(decoded.pixels.max()),
        "pixel": None if size is None else [size.column_mm, size.row_mm, size.source],
        "vertebrae": list(VERTEBRAE),
        "points": list(POINTS),
        "view": image.view,
        "patterns": dict(films.store.schema[films.plan["cement"]["pattern"]].levels),
    }


@route("/films/{sha}", right="read", example=_SHA)
def film_page(ctx: Ctx) -> Response:
    """The viewer for one film, with the rater's own reads."""
    films = _films(ctx)
    image = films.image(_sha(ctx))
    read_no = _read_no(ctx.query.get("read", "1"))
    own = films.my_reads(image.sha256)
    mine = {r.read_no: r for r in own if r.kind == "lateral"}
    cement = {r.read_no: r for r in own if r.kind == "cement"}
    current = mine.get(read_no)
    setup = _view_data(image, films)
    setup["read"] = read_no
    setup["saved"] = None if current is None else current.points
    setup["accepted"] = None if current is None else current.accepted_at
    setup["read_id"] = None if current is None else current.id
    outline = cement.get(read_no)
    setup["outline"] = None if outline is None else outline.points
    setup["outline_pattern"] = None if outline is None else outline.measures.get("pattern")
    setup["outline_id"] = None if outline is None else outline.id
    setup["outline_accepted"] = None if outline is None else outline.accepted_at
    if (
        current is not None
        and current.pixel_size is not None
        and current.pixel_size.source == "calibration"
    ):
        setup["pixel"] = [current.pixel_size.column_mm, current.pixel_size.row_mm, "calibration"]
    return ctx.render(
        "film.html",
        title=f"Film of {image.record}",
        image=image,
        read_no=read_no,
        reads=sorted(mine.values(), key=lambda r: r.read_no),
        setup=json.dumps(setup),
        patterns=setup["patterns"],
        record_url=record_url,
        heights=HEIGHTS,
        vertebrae=VERTEBRAE,
    )


@route("/films/{sha}/pixels", right="read", example=_SHA)
def pixels(ctx: Ctx) -> Response:
    """The display values (uint16, little-endian, row by row; MONOCHROME1 already inverted)."""
    decoded = _films(ctx).decoded(_sha(ctx))
    return Response(
        decoded.pixels.astype("<u2").tobytes(),
        media_type="application/octet-stream",
        headers={"Cache-Control": "private, max-age=3600"},
    )


def _read_no(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise DataError(
            f"read must be 1 (first read) or 2, 3, ... (a repeat), got {text!r}"
        ) from None
    if value < 1:
        raise DataError(f"read must be 1 (first read) or 2, 3, ... (a repeat), got {value}")
    return value


def _points(ctx: Ctx) -> Any:
    try:
        points = json.loads(ctx.get("points") or "null")
        arr = np.asarray(points, dtype=float)
    except (ValueError, TypeError):
        raise LandmarkError("the landmarks sent are not a list of (x, y) points") from None
    if arr.shape != (3, 6, 2):
        placed = (
            0
            if points is None
            else int(np.isfinite(arr).all(axis=-1).sum())
            if arr.ndim == 3
            else 0
        )
        raise LandmarkError(
            f"place all 18 points (six on each of the three vertebrae) first ({placed} placed)"
        )
    return arr


def _pixel(ctx: Ctx, films: ImageStore, sha: str) -> PixelSize:
    text = ctx.get("calibration")
    if text:
        try:
            x1, y1, x2, y2, length = (float(v) for v in json.loads(text))
        except (ValueError, TypeError):
            raise LandmarkError("the calibration must be two points and a length in mm") from None
        return calibrate((x1, y1), (x2, y2), length)
    return films.pixel_size_for(sha)


def _outline(ctx: Ctx) -> Any:
    try:
        outline = json.loads(ctx.get("points") or "null")
    except ValueError:
        raise LandmarkError("the outlines sent are not lists of (x, y) points") from None
    if not isinstance(outline, dict):
        raise LandmarkError("outline the vertebral body, then the cement")
    return {"body": outline.get("body") or [], "cement": outline.get("cement") or []}


def _numbers(measures: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in measures.items()
    }


@route("/films/{sha}/measure", right="read", methods=("POST",), example=_SHA)
def measure(ctx: Ctx) -> Response:
    """The derived numbers of the points sent (JSON); nothing is saved."""
    films = _films(ctx)
    sha = _sha(ctx)
    try:
        if ctx.get("kind") == "cement":
            result = films.measure(
                sha, _outline(ctx), kind="cement", pattern=ctx.get("pattern") or None
            )
        else:
            size = _pixel(ctx, films, sha)
            result = films.measure(sha, _points(ctx), pixel_size=size)
    except LandmarkError as exc:
        return JSONResponse({"ok": False, "message": str(exc)})
    return JSONResponse({"ok": True, "measures": _numbers(result)})


@route("/films/{sha}/save", right="edit", methods=("POST",), example=_SHA)
def save(ctx: Ctx) -> Response:
    """Save the rater's read (JSON answer: the read's number, or the problem)."""
    films = _films(ctx)
    sha = _sha(ctx)
    try:
        read_no = _read_no(ctx.get("read", "1"))
        if ctx.get("kind") == "cement":
            read = films.save_read(
                sha,
                _outline(ctx),
                read_no=read_no,
                kind="cement",
                pattern=ctx.get("pattern") or None,
            )
        else:
            size = _pixel(ctx, films, sha)
            read = films.save_read(sha, _points(ctx), read_no=read_no, pixel_size=size)
    except KyphoError as exc:
        return JSONResponse({"ok": False, "message": str(exc)})
    return JSONResponse({"ok": True, "read_id": read.id, "measures": _numbers(read.measures)})


@route("/films/{sha}/accept", right="edit", methods=("POST",), example=_SHA)
def accept(ctx: Ctx) -> Response:
    """Fill the record's fields from the rater's saved read (audited, with provenance)."""
    films = _films(ctx)
    sha = _sha(ctx)
    try:
        read_id = int(ctx.get("read_id"))
    except ValueError:
        return JSONResponse({"ok": False, "message": "save the read before accepting it"})
    try:
        record = films.accept(read_id)
    except KyphoError as exc:
        return JSONResponse({"ok": False, "message": str(exc)})
    image = films.image(sha)
    return JSONResponse(
        {
            "ok": True,
            "record": image.record,
            "version": record.version,
            "url": record_url(image.record),
        }
    )
