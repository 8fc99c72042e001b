"""Log in and out."""

from __future__ import annotations

from starlette.responses import Response

from kypho.store.auth import authenticate, record_logout
from kypho.web.app import redirect
from kypho.web.routing import PUBLIC, Ctx, route


@route("/login", right=PUBLIC)
def login_page(ctx: Ctx) -> Response:
    """The login form (a logged-in user goes to the dashboard)."""
    if ctx.user is not None:
        return redirect("/")
    expired = ctx.query.get("expired") == "1"
    return ctx.render("login.html", expired=expired, next=_safe_next(ctx.query.get("next")))


@route("/login", right=PUBLIC, methods=("POST",), name="login")
def login(ctx: Ctx) -> Response:
    """Check the name and password; throttled after repeated failures."""
    name = ctx.get("name").strip()
    password = ctx.get("password")
    client = ctx.request.client.host if ctx.request.client else "unknown"
    nxt = _safe_next(ctx.get("next"))
    web = ctx.web
    if not name or not password:
        return ctx.render("login.html", 400, error="Enter your user name and password.", next=nxt)
    if web.throttled(f"user:{name}", f"client:{client}"):
        authenticate_throttled(ctx, name, client)
        return ctx.render(
            "login.html",
            429,
            error="Too many failed logins: wait 15 minutes, or ask an admin.",
            next=nxt,
        )
    role = authenticate(web.store, name, password, client=client)
    if role is None:
        web.failed(f"user:{name}", f"client:{client}")
        return ctx.render("login.html", 401, error="Wrong user name or password.", next=nxt)
    web.succeeded(f"user:{name}")
    old = ctx.request.state.session
    web.end_session(old)
    session = web.new_session(name)  # a fresh id at login: no session fixation
    ctx.request.state.session = session
    return redirect(nxt or "/")


def authenticate_throttled(ctx: Ctx, name: str, client: str) -> None:
    """Record a refused (throttled) attempt in the audit trail."""
    from kypho.store.audit import dumps
    from kypho.store.workflow import acting_as, writing

    actor = acting_as(ctx.web.store, name[:200])
    with writing(actor, None, actor_role="none") as w:
        w.append(
            "login_failed",
            field=name[:200],
            new=dumps({"client": client}),
            reason="throttled: too many failed logins",
        )


@route("/logout", right="read", methods=("POST",))
def logout(ctx: Ctx) -> Response:
    """End the session."""
    session = ctx.request.state.session
    if ctx.role is not None:
        record_logout(ctx.acting(), ctx.role)
    ctx.web.end_session(session)
    ctx.request.state.session = ctx.web.new_session(None)
    return redirect("/login")


def _safe_next(value: str | None) -> str:
    """Only a local path (no ``//host`` or scheme): no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    return value
