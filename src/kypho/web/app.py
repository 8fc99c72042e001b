"""The study web application: sessions, authorisation, CSRF, templates, assembly.

:func:`create_app` builds a Starlette application over one open
:class:`kypho.store.Store`. Each request acts as its logged-in user through
:func:`kypho.store.workflow.acting_as`, so every change lands in the store's
audit trail under that user's name and role, and the store checks the right
once more underneath the route's own check.

Security, in one place (:meth:`WebApp.endpoint`):

* sessions are opaque random ids kept in the store (:mod:`kypho.store.sessions`:
  shared by every server process, kept across restarts; only their SHA-256 is
  stored), sent in a cookie signed with itsdangerous (HttpOnly, SameSite=Strict,
  ``Secure`` when served over HTTPS, an absolute lifetime checked from the
  signature's timestamp) and dropped after ``idle_minutes`` without a request,
  at logout, and when the user is disabled;
* every non-GET request must carry the session's CSRF token (form field
  ``csrf`` or header ``X-CSRF-Token``), compared in constant time; the login
  form carries the token of a pre-login session;
* the route's right (:mod:`kypho.web.routing`) is checked against the role the
  store holds *now* for the user, before the handler runs: 403 otherwise;
* failed logins are throttled per user name and per client address, counted in
  the store (so a restart or another worker does not reset the count);
* templates autoescape; pages carry a Content-Security-Policy allowing only
  this site's own scripts and styles (HTMX is served from the package).
"""

from __future__ import annotations

import hmac
import importlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kypho.errors import KyphoError, PermissionDenied
from kypho.schema.forms import Forms, load_forms
from kypho.store import Store
from kypho.store.sessions import Session, SessionStore
from kypho.store.workflow import acting_as, rights_of, role_of
from kypho.web.routing import ROUTES, Ctx, RouteSpec

__all__ = ["PAGE_MODULES", "Session", "Settings", "WebApp", "create_app"]

#: The modules whose :func:`~kypho.web.routing.route` registrations make up the
#: application; a module adding pages is appended here.
PAGE_MODULES: list[str] = [
    "kypho.web.pages.auth",
    "kypho.web.pages.records",
    "kypho.web.pages.queries",
    "kypho.web.pages.log",
    "kypho.web.pages.admin",
    "kypho.web.pages.data",
    "kypho.web.pages.dde",
    "kypho.web.pages.films",
]

COOKIE = "kypho_session"
_MAX_UPLOAD = 50 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """How the application runs.

    Attributes
    ----------
    secret
        Key signing the session cookies (random per process when not given:
        sessions then end when the server restarts).
    idle_minutes
        A session unused this long is closed (the user logs in again).
    lifetime_hours
        The longest a session lives, used or not.
    max_failures, failure_window_s
        Failed logins allowed per user name (and per client address) within
        the window before further attempts are refused until it passes.
    secure_cookies
        Send the cookie only over HTTPS (set when behind a TLS reverse proxy).
    verify_every_s
        How often the audit trail is verified in the background for the banner.
    schema_path
        The schema file the forms are read from (``None``: kypho's built-in one).
    report_timeout_s
        The longest a report run may take.
    report_figures
        Whether the report run from the browser draws its figures.
    report_folder
        Where report runs are kept (``None``: a temporary folder of this process,
        removed when it exits). The worker processes of ``kypho serve --workers``
        share one, so a run started on one is seen on all.
    """

    secret: str = field(default_factory=lambda: secrets.token_hex(32))
    idle_minutes: float = 30.0
    lifetime_hours: float = 12.0
    max_failures: int = 5
    failure_window_s: float = 900.0
    secure_cookies: bool = False
    verify_every_s: float = 300.0
    schema_path: Path | None = None
    extensions: tuple[Path, ...] = ()
    report_timeout_s: float = 600.0
    report_figures: bool = True
    report_folder: Path | None = None


class WebApp:
    """The application's state: the store, sessions, login throttle, templates, verify."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        forms: Forms | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.forms = forms or load_forms(store.schema, settings.schema_path)
        self.signer = TimestampSigner(settings.secret, salt="kypho-session")
        self.lock = threading.Lock()
        self.jinja = Environment(
            loader=PackageLoader("kypho.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.jinja.filters["timestamp"] = _timestamp
        # SQLite takes one writer at a time: queue this process's writing requests
        # here rather than in SQLite's busy handler, whose timeout a long queue of
        # writers on a loaded machine can exceed (PostgreSQL's row locks just wait)
        # (re-entrant: a writing handler also writes its session)
        self.write_lock: threading.RLock | None = (
            threading.RLock() if store.engine.dialect.name == "sqlite" else None
        )
        self.sessions = SessionStore(
            store,
            idle_s=settings.idle_minutes * 60,
            lifetime_s=settings.lifetime_hours * 3600,
            write_guard=self._writes,
            try_write_guard=self._try_writes,
        )
        from kypho.store.safe_harbor import dropped_columns

        #: fields shown only to roles with ``read_identified`` (Safe Harbor identifiers)
        self.withheld = frozenset(dropped_columns(store.schema))
        self.verify_result: Any = None
        self.verify_at: float | None = None
        self.verify_error: str | None = None
        self.extra: dict[str, Any] = {}

    # --------------------------------------------------------------- sessions

    @contextmanager
    def _writes(self) -> Iterator[None]:
        """Hold this process's SQLite write queue (nothing to hold on PostgreSQL)."""
        if self.write_lock is None:
            yield
        else:
            with self.write_lock:
                yield

    @contextmanager
    def _try_writes(self) -> Iterator[bool]:
        """The write queue if it is free now (``True``), else ``False`` without waiting."""
        if self.write_lock is None:
            yield True
        elif self.write_lock.acquire(blocking=False):
            try:
                yield True
            finally:
                self.write_lock.release()
        else:
            yield False

    def new_session(self, user: str | None) -> Session:
        """A fresh session (new id and CSRF token), kept in the store."""
        return self.sessions.new(user, self.clock())

    def cookie_value(self, session: Session) -> str:
        return self.signer.sign(session.sid).decode()

    def session_of(self, request: Request) -> tuple[Session | None, bool]:
        """The request's live session, and whether it had one that expired."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None, False
        try:
            sid = self.signer.unsign(raw, max_age=int(self.settings.lifetime_hours * 3600)).decode()
        except SignatureExpired:
            return None, True
        except BadSignature:
            return None, False
        session = self.sessions.get(sid, self.clock())
        return session, session is None

    def save_session(self, session: Session) -> None:
        """Write a session's ``data`` back to the store (after changing it)."""
        self.sessions.save_data(session)

    def end_session(self, session: Session) -> None:
        self.sessions.end(session)

    def end_sessions_of(self, user: str) -> None:
        """Log a user out everywhere (disabled, or their password changed)."""
        self.sessions.end_all_of(user)

    # --------------------------------------------------------------- throttle

    def throttled(self, *keys: str) -> bool:
        """Whether any key (user name, client address) has too many recent failures."""
        counts = self.sessions.recent_failures(keys, self.clock(), self.settings.failure_window_s)
        return any(n >= self.settings.max_failures for n in counts.values())

    def failed(self, *keys: str) -> None:
        self.sessions.add_failure(keys, self.clock(), self.settings.failure_window_s)

    def succeeded(self, key: str) -> None:
        self.sessions.clear_failures(key)

    # ----------------------------------------------------------------- verify

    def refresh_verify(self) -> None:
        """Verify the audit trail now (as the store's opening user) and keep the result."""
        try:
            result = self.store.verify()
            error = None
        except KyphoError as exc:
            result, error = None, str(exc)
        with self.lock:
            self.verify_result, self.verify_error, self.verify_at = result, error, self.clock()

    def store_failing(self) -> bool:
        return self.verify_error is not None or (
            self.verify_result is not None and not self.verify_result.ok
        )

    def start_verifier(self) -> threading.Thread:
        """Re-verify in the background every ``verify_every_s`` seconds."""

        def loop() -> None:
            while True:
                self.refresh_verify()
                time.sleep(self.settings.verify_every_s)

        thread = threading.Thread(target=loop, name="kypho-verify", daemon=True)
        thread.start()
        return thread

    # -------------------------------------------------------------- rendering

    def render(
        self, ctx: Ctx, template: str, status_code: int, values: dict[str, Any]
    ) -> HTMLResponse:
        page = self.jinja.get_template(template).render(
            ctx=ctx,
            user=ctx.user,
            role=ctx.role,
            csrf=ctx.csrf,
            can=ctx.can,
            forms=self.forms,
            timepoints=self.store.schema.timepoints,
            withheld=() if ctx.can("read_identified") else self.withheld,
            study=self.store.schema.title or self.store.schema.study,
            failing=self.store_failing(),
            **values,
        )
        return HTMLResponse(page, status_code=status_code)

    # -------------------------------------------------------------- endpoints

    def endpoint(self, spec: RouteSpec) -> Callable[[Request], Any]:
        """The one wrapper of every route: session, expiry, role, right, CSRF, then the handler."""

        async def run(request: Request) -> Response:
            session, expired = await run_in_threadpool(self.session_of, request)
            is_get = request.method in ("GET", "HEAD")
            form = FormData()
            uploads: dict[str, tuple[str, bytes]] = {}
            if not is_get:
                length = int(request.headers.get("content-length") or 0)
                if length > _MAX_UPLOAD:
                    return PlainTextResponse("request too large", status_code=413)
                form = await request.form(max_part_size=_MAX_UPLOAD)
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        uploads[key] = (value.filename or "upload", await value.read())
                await form.close()  # the uploads' temporary files; the text fields remain
            user = session.user if session is not None else None
            if spec.right is not None and user is None:
                return self._to_login(request, expired)
            role: str | None = None
            store: Store | None = None
            if user is not None:
                store = acting_as(self.store, user)
                role = await run_in_threadpool(self._role_now, user)
                if role is None:
                    assert session is not None
                    await run_in_threadpool(self.end_session, session)
                    if spec.right is not None:
                        return self._to_login(request, True)
                    user, store = None, None
            rights = rights_of(role) if role is not None else frozenset()
            if session is None:
                session = await run_in_threadpool(self.new_session, None)
            ctx = Ctx(
                request=request,
                web=self,
                user=user,
                role=role,
                rights=rights,
                csrf=session.csrf,
                form=form,
                params={k: str(v) for k, v in request.path_params.items()},
                store=store,
                uploads=uploads,
            )
            ctx.request.state.session = session
            if not is_get:
                sent = request.headers.get("x-csrf-token") or ctx.get("csrf")
                if not sent or not hmac.compare_digest(sent, session.csrf):
                    response: Response = ctx.render(
                        "error.html",
                        403,
                        title="Request refused",
                        message="The form's security token is missing or out of date (CSRF "
                        "protection). Nothing was changed. Reload the page and try again.",
                    )
                    return self._finish(response, session)
            if spec.right is not None and spec.right not in rights:
                response = ctx.render(
                    "error.html",
                    403,
                    title="Not allowed",
                    message=f"Your role ({role}) may not do this. Nothing was changed.",
                )
                return self._finish(response, session)
            try:
                response = await run_in_threadpool(self._call, spec, ctx, is_get)
            except PermissionDenied as exc:
                response = ctx.render("error.html", 403, title="Not allowed", message=str(exc))
            except KyphoError as exc:
                response = ctx.render("error.html", 400, title="Not done", message=str(exc))
            return self._finish(response, ctx.request.state.session)

        return run

    def _call(self, spec: RouteSpec, ctx: Ctx, is_get: bool) -> Response:
        if is_get or self.write_lock is None:
            return spec.handler(ctx)
        with self.write_lock:
            return spec.handler(ctx)

    def _role_now(self, user: str) -> str | None:
        with self.store.engine.connect() as conn:
            return role_of(conn, self.store, user)

    def _to_login(self, request: Request, expired: bool) -> Response:
        target = "/login" + ("?expired=1" if expired else "")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        if request.method not in ("GET", "HEAD"):
            return RedirectResponse(target, status_code=303)
        nxt = request.url.path
        sep = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{sep}next={nxt}", status_code=303)

    def _finish(self, response: Response, session: Session) -> Response:
        response.set_cookie(
            COOKIE,
            self.cookie_value(session),
            max_age=int(self.settings.lifetime_hours * 3600),
            httponly=True,
            samesite="strict",
            secure=self.settings.secure_cookies,
            path="/",
        )
        _secure_headers(response)
        return response


def _timestamp(seconds: float) -> str:
    """A time as the audit log shows times (UTC, to the minute)."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _secure_headers(response: Response) -> None:
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cache-Control", "no-store")


def load_pages() -> list[RouteSpec]:
    """Import every page module (registering its routes) and return the routes."""
    for name in PAGE_MODULES:
        importlib.import_module(name)
    return list(ROUTES)


def create_app(
    store: Store,
    settings: Settings | None = None,
    *,
    clock: Callable[[], float] = time.time,
    verify_in_background: bool = False,
) -> Starlette:
    """The Starlette application serving ``store``.

    ``app.state.web`` is the :class:`WebApp` (sessions, settings, forms).
    """
    web = WebApp(store, settings or Settings(), clock=clock)
    routes: list[Route | Mount] = [
        Route(spec.path, web.endpoint(spec), methods=list(spec.methods), name=spec.name)
        for spec in load_pages()
    ]
    static = Path(__file__).parent / "static"
    routes.append(Mount("/static", app=StaticFiles(directory=static), name="static"))
    app = Starlette(routes=routes)
    app.state.web = web
    web.refresh_verify()
    if verify_in_background:
        web.start_verifier()
    return app


def redirect(url: str) -> RedirectResponse:
    """A 303 redirect (after a POST, the browser GETs the target)."""
    return RedirectResponse(url, status_code=303)


def html(text: str, status_code: int = 200) -> HTMLResponse:
    """A fragment of already-escaped HTML."""
    return HTMLResponse(text, status_code=status_code)
