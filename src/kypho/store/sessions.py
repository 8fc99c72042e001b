"""The web application's sessions and failed-login counts, kept in the store.

Keeping them in the database rather than in one server process's memory means
that several server processes (workers, or servers on several machines over one
PostgreSQL store) share them, and that restarting the server neither resets the
failed-login throttle nor logs anybody out (when the cookie key is kept, see
``kypho serve --secret-file``).

``kypho_web_sessions``
    one row per browser session: the SHA-256 of its id (the id itself is only
    in the browser's cookie, so reading the table does not give a live
    session), its CSRF token, the user (empty before login), when it was
    created and last used, and small per-session data (an import waiting for
    its commit) as JSON;
``kypho_login_failures``
    one row per failed login and key (``user:NAME``, ``client:ADDRESS``), with
    its time; rows older than the throttle window are pruned as new ones come.

Created by the store's Alembic revision ``w002``. Neither table is part of the
audit trail: logins, failed logins and logouts are audited by
:mod:`kypho.store.auth` when they happen; these rows are working state.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from kypho.store.store import Store

__all__ = [
    "METADATA",
    "Session",
    "SessionStore",
    "failures",
    "web_sessions",
]

METADATA = sa.MetaData()

web_sessions = sa.Table(
    "kypho_web_sessions",
    METADATA,
    sa.Column("sid_hash", sa.Text(), primary_key=True),
    sa.Column("csrf", sa.Text(), nullable=False),
    sa.Column("user_name", sa.Text(), nullable=True, index=True),
    sa.Column("created", sa.Float(), nullable=False),
    sa.Column("seen", sa.Float(), nullable=False, index=True),
    sa.Column("data", sa.Text(), nullable=True),
)

failures = sa.Table(
    "kypho_login_failures",
    METADATA,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("key", sa.Text(), nullable=False, index=True),
    sa.Column("at", sa.Float(), nullable=False),
)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass
class Session:
    """One browser's session (``sid`` is the secret id the cookie carries)."""

    sid: str
    csrf: str
    user: str | None
    created: float
    seen: float
    data: dict[str, Any] = field(default_factory=dict)


class SessionStore:
    """Sessions and the failed-login throttle of one store.

    Parameters
    ----------
    store
        The study store (its engine holds the two tables).
    idle_s
        A session unused this long is over.
    lifetime_s
        The longest a session lives, used or not.
    touch_every_s
        ``seen`` is written back at most this often per session, so that reading
        pages does not write to the database on every request (the idle limit is
        then exact to within this many seconds).
    write_guard
        Held around every write (the web application's SQLite write queue);
        reads never wait on it.
    try_write_guard
        Like ``write_guard`` without waiting: yields whether it got it. Writing
        back ``seen`` is skipped (until a later request) rather than queued
        behind other writers.
    """

    def __init__(
        self,
        store: Store,
        *,
        idle_s: float,
        lifetime_s: float,
        touch_every_s: float = 30.0,
        write_guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
        try_write_guard: Callable[[], AbstractContextManager[bool]] = lambda: nullcontext(True),
    ) -> None:
        self.engine = store.engine
        self._guard = write_guard
        self._try_guard = try_write_guard
        self.idle_s = idle_s
        self.lifetime_s = lifetime_s
        self.touch_every_s = min(touch_every_s, idle_s / 4)
        self._last_prune = 0.0

    # ----------------------------------------------------------------- sessions

    def new(self, user: str | None, now: float) -> Session:
        """A fresh session (a new random id and CSRF token)."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user, now, now)
        with self._guard(), self.engine.begin() as conn:
            if now - self._last_prune > 60.0:
                self._last_prune = now
                conn.execute(
                    sa.delete(web_sessions).where(
                        sa.or_(
                            web_sessions.c.seen < now - self.idle_s,
                            web_sessions.c.created < now - self.lifetime_s,
                        )
                    )
                )
            conn.execute(
                sa.insert(web_sessions).values(
                    sid_hash=_hash(session.sid),
                    csrf=session.csrf,
                    user_name=user,
                    created=now,
                    seen=now,
                    data=None,
                )
            )
        return session

    def get(self, sid: str, now: float) -> Session | None:
        """The live session with id ``sid`` (``None``: unknown, idle too long or too old)."""
        key = _hash(sid)
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(web_sessions).where(web_sessions.c.sid_hash == key)
            ).first()
        if row is None:
            return None
        if now - row.seen > self.idle_s or now - row.created > self.lifetime_s:
            self._delete(key)
            return None
        seen = float(row.seen)
        if now - seen >= self.touch_every_s:
            with self._try_guard() as free:
                if free:
                    with self.engine.begin() as conn:
                        conn.execute(
                            sa.update(web_sessions)
                            .where(web_sessions.c.sid_hash == key)
                            .values(seen=now)
                        )
                    seen = now
        data = json.loads(row.data) if row.data else {}
        return Session(sid, str(row.csrf), row.user_name, float(row.created), seen, data)

    def save_data(self, session: Session) -> None:
        """Write the session's ``data`` back (JSON)."""
        text = json.dumps(session.data) if session.data else None
        with self._guard(), self.engine.begin() as conn:
            conn.execute(
                sa.update(web_sessions)
                .where(web_sessions.c.sid_hash == _hash(session.sid))
                .values(data=text)
            )

    def end(self, session: Session) -> None:
        """End one session."""
        self._delete(_hash(session.sid))

    def end_all_of(self, user: str) -> int:
        """End every session of ``user`` (disabled, or their password changed)."""
        with self._guard(), self.engine.begin() as conn:
            result = conn.execute(sa.delete(web_sessions).where(web_sessions.c.user_name == user))
        return int(result.rowcount or 0)

    def count(self) -> int:
        """How many sessions are kept (live or not yet pruned)."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(web_sessions)).scalar_one()
            )

    def _delete(self, key: str) -> None:
        with self._guard(), self.engine.begin() as conn:
            conn.execute(sa.delete(web_sessions).where(web_sessions.c.sid_hash == key))

    # ----------------------------------------------------------------- throttle

    def recent_failures(self, keys: Iterable[str], now: float, window_s: float) -> dict[str, int]:
        """How many failed logins each key has had within the last ``window_s`` seconds."""
        wanted = list(keys)
        query = (
            sa.select(failures.c.key, sa.func.count())
            .where(failures.c.key.in_(wanted), failures.c.at > now - window_s)
            .group_by(failures.c.key)
        )
        with self.engine.connect() as conn:
            counts = {str(k): int(n) for k, n in conn.execute(query)}
        return {k: counts.get(k, 0) for k in wanted}

    def add_failure(self, keys: Iterable[str], now: float, window_s: float) -> None:
        """Count one failed login against each key (and drop counts older than the window)."""
        with self._guard(), self.engine.begin() as conn:
            conn.execute(sa.delete(failures).where(failures.c.at <= now - window_s))
            conn.execute(sa.insert(failures), [{"key": k, "at": now} for k in keys])

    def clear_failures(self, key: str) -> None:
        """Forget a key's failed logins (after a successful one)."""
        with self._guard(), self.engine.begin() as conn:
            conn.execute(sa.delete(failures).where(failures.c.key == key))
