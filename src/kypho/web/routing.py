"""Routes declared once, each with the right it needs.

Every page of the application is a plain function ``handler(ctx) -> Response``
registered with :func:`route`, which names the path, the HTTP methods and the
*right* (:func:`kypho.store.workflow.rights_of`) a user's role must hold. The
application (:mod:`kypho.web.app`) wraps each handler once: session, expiry,
role, right and CSRF are checked there and only there, before the handler runs;
a handler never checks authorisation itself (the store checks again underneath).
The tests walk :data:`ROUTES` to try every role on every route.

A module adding pages (e.g. a viewer) registers its routes with :func:`route`
and is named in :data:`kypho.web.app.PAGE_MODULES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

if TYPE_CHECKING:
    from kypho.store import Store
    from kypho.web.app import WebApp

__all__ = ["PUBLIC", "ROUTES", "Ctx", "RouteSpec", "route"]

#: ``right`` of a route anyone may open (the login page, static files).
PUBLIC = None


@dataclass(frozen=True)
class RouteSpec:
    """One route: path (Starlette syntax), methods, the right it needs, its handler."""

    path: str
    methods: tuple[str, ...]
    right: str | None
    handler: Callable[[Ctx], Response]
    name: str
    #: an example of each path parameter, for the role x route tests
    example: Mapping[str, str] = field(default_factory=dict)


#: Every route of the application, in registration order.
ROUTES: list[RouteSpec] = []


def route(
    path: str,
    *,
    right: str | None,
    methods: tuple[str, ...] = ("GET",),
    name: str | None = None,
    example: Mapping[str, str] | None = None,
) -> Callable[[Callable[[Ctx], Response]], Callable[[Ctx], Response]]:
    """Register ``handler`` for ``path``; ``right`` is what the user's role must hold.

    ``right=PUBLIC`` (``None``) opens the route to anyone, logged in or not.
    """

    def register(handler: Callable[[Ctx], Response]) -> Callable[[Ctx], Response]:
        ROUTES.append(
            RouteSpec(
                path,
                tuple(methods),
                right,
                handler,
                name or handler.__name__,
                dict(example or {}),
            )
        )
        return handler

    return register


@dataclass
class Ctx:
    """What a handler gets: the request, the acting user and their store, the form."""

    request: Request
    web: WebApp
    user: str | None
    role: str | None
    rights: frozenset[str]
    csrf: str
    form: FormData
    params: Mapping[str, str]
    store: Store | None = None
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def query(self) -> QueryParams:
        """The URL's query parameters."""
        return self.request.query_params

    def can(self, right: str) -> bool:
        """Whether the user's role holds ``right`` (for showing a button; never the check)."""
        return right in self.rights

    def acting(self) -> Store:
        """The store acting as the logged-in user."""
        if self.store is None:
            raise RuntimeError("no logged-in user on this route")
        return self.store

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        """Render a template with the page's common values (user, role, CSRF token, banner)."""
        return self.web.render(self, template, status_code, values)

    def get(self, name: str, default: str = "") -> str:
        """A form value as text (``default`` when absent; uploads are in :attr:`uploads`)."""
        value = self.form.get(name)
        return value if isinstance(value, str) else default
