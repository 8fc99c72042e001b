"""Data in and out from the browser: import with a preview, export, the study report."""

from __future__ import annotations

import atexit
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from starlette.responses import FileResponse, Response

from kypho.errors import InputFileError, StoreError
from kypho.web.app import redirect
from kypho.web.pages.log import _cell
from kypho.web.routing import Ctx, route

_SUFFIXES = (".csv", ".xlsx")


# ------------------------------------------------------------------- import


def _read_upload(ctx: Ctx, filename: str, content: bytes) -> pd.DataFrame:
    from kypho.io import read_table

    suffix = Path(filename).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputFileError(f"cannot import {filename!r}: the file must end in .csv or .xlsx")
    with tempfile.TemporaryDirectory(prefix="kypho-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        return read_table(path, schema=ctx.web.store.schema)


@route("/import", right="import")
def import_page(ctx: Ctx) -> Response:
    """Choose a CSV or Excel file to import."""
    return ctx.render("import.html", preview=None)


@route("/import/preview", right="import", methods=("POST",))
def import_preview(ctx: Ctx) -> Response:
    """What the file would import: accepted rows, rejected rows and every reason. Nothing stored."""
    from kypho.validate import validate

    if "file" not in ctx.uploads or not ctx.uploads["file"][1]:
        raise InputFileError("choose a .csv or .xlsx file to import")
    filename, content = ctx.uploads["file"]
    raw = _read_upload(ctx, filename, content)
    store = ctx.acting()
    schema = store.schema
    # the preview shows what the import will do, and the store imports whole records only
    result = validate(raw, schema, strict=True)
    ids = [str(i) for i in result.data[schema.id_column].astype(object).tolist()]
    existing = sorted(set(ids) & set(str(i) for i in store.read()[schema.id_column].tolist()))
    token = secrets.token_urlsafe(16)
    session = ctx.request.state.session
    session.data["import"] = {
        "token": token,
        "name": Path(filename).name,
        "content": base64.b64encode(content).decode("ascii"),
    }
    ctx.web.save_session(session)
    problems = result.problems.to_dict("records")
    return ctx.render(
        "import.html",
        preview={
            "name": Path(filename).name,
            "n_read": result.n_read,
            "n_accepted": result.n_accepted - len(existing),
            "n_rejected": result.n_rejected + len(existing),
            "problems": problems,
            "existing": existing,
            "unknown": list(result.unknown_columns),
            "token": token,
        },
    )


@route("/import/commit", right="import", methods=("POST",))
def import_commit(ctx: Ctx) -> Response:
    """Import the previewed file: every valid row in one transaction."""
    pending: dict[str, Any] | None = ctx.request.state.session.data.get("import")
    if pending is None or pending["token"] != ctx.get("token"):
        raise StoreError("nothing to import: preview the file again")
    reason = ctx.get("reason").strip()
    if not reason:
        raise StoreError("an import needs a reason (e.g. 'baseline data from ward 3')")
    raw = _read_upload(ctx, pending["name"], base64.b64decode(pending["content"]))
    result = ctx.acting().import_frame(raw, reason=reason, source=pending["name"])
    session = ctx.request.state.session
    session.data.pop("import", None)
    ctx.web.save_session(session)
    return ctx.render("import_done.html", result=result, name=pending["name"])


# ------------------------------------------------------------------- export


@route("/export", right="export")
def export_page(ctx: Ctx) -> Response:
    """De-identified export (and, for admins, the full export with a reason)."""
    return ctx.render("export.html")


def _csv_response(frame: pd.DataFrame, name: str) -> Response:
    shown = frame.astype(object).where(frame.notna(), None)
    for column in shown.columns:
        shown[column] = [None if v is None else _cell(v) for v in shown[column]]
    from kypho.output.cells import rows_to_csv

    # rows_to_csv quotes a cell holding a carriage return (CRLF line ends then)
    body = rows_to_csv(
        [
            list(map(str, shown.columns)),
            *(["" if v is None else v for v in r] for r in shown.itertuples(index=False)),
        ]
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@route("/export/deidentified", right="export", methods=("POST",))
def export_deidentified(ctx: Ctx) -> Response:
    """The records de-identified (Safe Harbor), as CSV; recorded in the trail."""
    frame = ctx.acting().export(reason=ctx.get("reason").strip() or "web export")
    return _csv_response(frame, "kypho-deidentified.csv")


@route("/export/full", right="export_full", methods=("POST",))
def export_full(ctx: Ctx) -> Response:
    """The identified records as stored (admin, with a reason), as CSV; recorded."""
    reason = ctx.get("reason").strip()
    if not reason:
        raise StoreError("a full (identified) export needs a reason, recorded in the audit trail")
    frame = ctx.acting().export(full=True, reason=reason)
    return _csv_response(frame, "kypho-full.csv")


# ------------------------------------------------------------------- report


@dataclass
class _Job:
    """One report run; kept as ``job.json`` in its folder, so every worker process sees it."""

    id: str
    user: str
    folder: Path
    started: float
    state: str = "running"
    message: str = ""
    files: list[str] = field(default_factory=list)

    def save(self) -> None:
        data = {
            "id": self.id,
            "user": self.user,
            "started": self.started,
            "state": self.state,
            "message": self.message,
            "files": self.files,
        }
        partial = self.folder / "job.json.part"
        partial.write_text(json.dumps(data), encoding="utf-8")
        partial.replace(self.folder / "job.json")  # readers never see half a file


def _report_root(ctx: Ctx) -> Path:
    """The folder of the report runs (shared by the worker processes of one server)."""
    configured = ctx.web.settings.report_folder
    if configured is not None:
        configured.mkdir(parents=True, exist_ok=True)
        return configured
    with ctx.web.lock:
        root = ctx.web.extra.get("report_root")
        if root is None:
            root = ctx.web.extra["report_root"] = Path(tempfile.mkdtemp(prefix="kypho-web-"))
            # the reports are this process's own files: removed when it exits
            atexit.register(shutil.rmtree, root, True)
    return Path(root)


def _job(ctx: Ctx, job_id: str) -> _Job | None:
    """The user's report run ``job_id`` (``None``: unknown, or another user's)."""
    if not job_id or not job_id.replace("-", "").replace("_", "").isalnum():
        return None
    folder = _report_root(ctx) / job_id
    try:
        data = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("user") != ctx.user:
        return None
    return _Job(
        str(data["id"]),
        str(data["user"]),
        folder,
        float(data["started"]),
        str(data["state"]),
        str(data["message"]),
        [str(f) for f in data["files"]],
    )


def _jobs(ctx: Ctx) -> list[_Job]:
    """The user's report runs, newest first."""
    found = (_job(ctx, p.name) for p in _report_root(ctx).iterdir() if p.is_dir())
    return sorted((j for j in found if j is not None), key=lambda j: -j.started)


def _run_report(job: _Job, url: str, user: str, timeout: float, figures: bool) -> None:
    env = {**os.environ, "KYPHO_USER": user, "KYPHO_REPORT_DB": url}
    code = (
        "import os, sys; from kypho.cli import main; "
        "main(['analyze', '--db', os.environ['KYPHO_REPORT_DB'], *sys.argv[1:]])"
    )
    out = job.folder / "report"
    args = [sys.executable, "-c", code, "--out", str(out), "--format", "html", "--format", "docx"]
    if not figures:
        args.append("--no-figures")
    try:
        done = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        job.state, job.message = "failed", f"the report took longer than {timeout:.0f} s"
        job.save()
        return
    if done.returncode != 0:
        lines = [x for x in (done.stderr or "").splitlines() if x.startswith("error:")]
        job.state = "failed"
        job.message = lines[-1] if lines else (done.stderr or "")[-500:]
        job.save()
        return
    job.files = [n for n in ("report.html", "report.docx") if (out / n).is_file()]
    job.state = "done"
    job.save()


@route("/report", right="report")
def report_page(ctx: Ctx) -> Response:
    """Run the study report on the store's current records; see earlier runs."""
    job = _job(ctx, ctx.query.get("job", ""))
    if ctx.request.headers.get("hx-request") and job is not None:
        return ctx.render("report_status.html", job=job)
    earlier = [j for j in _jobs(ctx) if job is None or j.id != job.id]
    return ctx.render("report.html", job=job, jobs=earlier)


@route("/report/run", right="report", methods=("POST",))
def report_run(ctx: Ctx) -> Response:
    """Start a report run (in a separate process) and show its progress."""
    job_id = secrets.token_urlsafe(12)
    folder = _report_root(ctx) / job_id
    folder.mkdir()
    job = _Job(job_id, str(ctx.user), folder, time.time())
    job.save()
    thread = threading.Thread(
        target=_run_report,
        args=(
            job,
            ctx.web.store.url,
            str(ctx.user),
            ctx.web.settings.report_timeout_s,
            ctx.web.settings.report_figures,
        ),
        daemon=True,
    )
    thread.start()
    return redirect(f"/report?job={job_id}")


@route("/report/file", right="report")
def report_file(ctx: Ctx) -> Response:
    """Open or download a finished report's HTML or Word file."""
    job = _job(ctx, ctx.query.get("job", ""))
    name = ctx.query.get("name", "")
    if job is None or job.state != "done" or name not in job.files:
        raise StoreError("no such report file: run the report again")
    path = job.folder / "report" / name
    if name.endswith(".html"):
        response: Response = FileResponse(path, media_type="text/html; charset=utf-8")
        # the report is one self-contained page: inline styles and images
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
        )
        return response
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename=f"kypho-report-{time.strftime('%Y%m%d')}.docx",
    )
