"""The study in the browser: electronic case report forms over the study store.

``kypho serve`` runs :func:`kypho.web.create_app` (Starlette, Jinja2 templates,
HTMX served from the package) on a :class:`kypho.store.Store`. See
:mod:`kypho.web.app` for sessions and authorisation and
:mod:`kypho.web.routing` for how pages declare the right they need.
"""

from __future__ import annotations

from kypho.web.app import PAGE_MODULES, Settings, WebApp, create_app

__all__ = ["PAGE_MODULES", "Settings", "WebApp", "create_app"]
