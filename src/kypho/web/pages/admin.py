"""Admins: users (add, role, disable, password) and the audit trail's verification."""

from __future__ import annotations

from starlette.responses import Response

from kypho.errors import StoreError
from kypho.store.auth import has_password, set_password
from kypho.store.roles import ROLES
from kypho.store.workflow import WORKFLOW_RIGHTS
from kypho.web.app import redirect
from kypho.web.routing import Ctx, route


def _roles() -> list[str]:
    return [*ROLES, *(r for r in WORKFLOW_RIGHTS if r not in ROLES)]


@route("/admin/users", right="manage_users")
def users_page(ctx: Ctx) -> Response:
    """The users, their roles and whether they can log in."""
    store = ctx.acting()
    users = store.users().to_dict("records")
    for u in users:
        u["has_password"] = has_password(store, str(u["name"]))
    return ctx.render("users.html", users=users, roles=_roles(), done=ctx.query.get("done", ""))


@route("/admin/users/add", right="manage_users", methods=("POST",))
def add_user(ctx: Ctx) -> Response:
    """Add a user with a role and a first password."""
    store = ctx.acting()
    name = ctx.get("name").strip()
    role = ctx.get("role")
    if not name:
        raise StoreError("a new user needs a name")
    password = ctx.get("password")
    if password and len(password) < 8:
        raise StoreError(f"the password of {name!r} is too short: it needs at least 8 characters")
    store.add_user(name, role, reason=ctx.get("reason").strip() or "added in the web application")
    if password:
        set_password(store, name, password, reason="first password")
    return redirect("/admin/users?done=added")


@route("/admin/users/role", right="manage_users", methods=("POST",))
def change_role(ctx: Ctx) -> Response:
    """Give a user another role."""
    store = ctx.acting()
    store.set_role(ctx.get("name"), ctx.get("role"), reason=ctx.get("reason").strip() or None)
    return redirect("/admin/users?done=role")


@route("/admin/users/active", right="manage_users", methods=("POST",))
def set_active(ctx: Ctx) -> Response:
    """Disable a user (their sessions end) or enable them again."""
    store = ctx.acting()
    name = ctx.get("name")
    active = ctx.get("active") == "1"
    if name == ctx.user and not active:
        raise StoreError("you cannot disable yourself; another admin can")
    store.set_active(name, active, reason=ctx.get("reason").strip() or None)
    if not active:
        ctx.web.end_sessions_of(name)
    return redirect("/admin/users?done=" + ("enabled" if active else "disabled"))


@route("/admin/users/password", right="manage_users", methods=("POST",))
def set_user_password(ctx: Ctx) -> Response:
    """Set a user's password (their other sessions end)."""
    name = ctx.get("name")
    set_password(ctx.acting(), name, ctx.get("password"), reason="set by an admin")
    if name != ctx.user:
        ctx.web.end_sessions_of(name)
    return redirect("/admin/users?done=password")


@route("/admin/verify", right="manage_users")
def verify_page(ctx: Ctx) -> Response:
    """Verify the audit trail now and show the result."""
    ctx.web.refresh_verify()
    return ctx.render("verify.html", result=ctx.web.verify_result, error=ctx.web.verify_error)
