"""Passwords and logins of the store's users (argon2 hashes, audited).

A password is kept only as its argon2id hash (argon2-cffi's defaults, RFC 9106's
recommended parameters for a server), in ``kypho_credentials``; setting one and
every login, failed or not, appends an entry to the audit trail (``passwd``,
``login``, ``login_failed``; the password itself never enters the trail).

References
----------
.. [1] Biryukov A, Dinu D, Khovratovich D, Josefsson S. Argon2 Memory-Hard
   Function for Password Hashing and Proof-of-Work Applications. RFC 9106, 2021.
"""

from __future__ import annotations

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kypho.errors import PermissionDenied, StoreError
from kypho.store.audit import dumps, now
from kypho.store.store import Store
from kypho.store.workflow import acting_as, credentials, rights_of, role_of, writing

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "authenticate",
    "has_password",
    "record_logout",
    "set_password",
]

#: The shortest password accepted (NIST SP 800-63B §5.1.1.2: at least 8).
MIN_PASSWORD_LENGTH = 8
_HASHER = PasswordHasher()
# a hash to verify against when the user is unknown, so that the answer takes
# as long as for a known user (no user-name probing by timing)
_DUMMY = _HASHER.hash("kypho-no-such-user")


def set_password(store: Store, name: str, password: str, *, reason: str | None = None) -> None:
    """Set user ``name``'s password; the acting user must be ``name`` or hold ``manage_users``.

    Raises
    ------
    StoreError
        If the password is shorter than :data:`MIN_PASSWORD_LENGTH` or the user
        does not exist.
    PermissionDenied
        If the acting user may not set this user's password.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StoreError(
            f"the password of {name!r} is too short: it needs at least "
            f"{MIN_PASSWORD_LENGTH} characters"
        )
    hashed = _HASHER.hash(password)
    with writing(store, None) as w:
        actor = role_of(w.conn, store, store.user)
        if actor is None:
            raise PermissionDenied(f"{store.user!r} is not an active user of this store")
        if store.user != name and "manage_users" not in rights_of(actor):
            raise PermissionDenied(
                f"user {store.user!r} (role {actor}) may not set another user's password; "
                "only an admin may"
            )
        w.role = actor
        users = store.tables.users
        if w.conn.execute(sa.select(users.c.name).where(users.c.name == name)).first() is None:
            raise StoreError(f"no user {name!r} in this store")
        w.conn.execute(sa.delete(credentials).where(credentials.c.name == name))
        w.conn.execute(
            sa.insert(credentials).values(name=name, hash=hashed, set_at=now(), set_by=store.user)
        )
        w.append("passwd", field=name, reason=reason)


def has_password(store: Store, name: str) -> bool:
    """Whether user ``name`` has a password set."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(credentials.c.name).where(credentials.c.name == name))
        return row.first() is not None


def authenticate(
    store: Store, name: str, password: str, *, client: str | None = None
) -> str | None:
    """Check a login; returns the user's role, or ``None`` (and records why).

    ``store`` may act as any user: the entry is written as ``name``. A login is
    refused when the user is unknown, disabled, has no password, or the
    password does not match; each refusal is recorded as ``login_failed``
    with the reason and the client address, each success as ``login``.
    """
    with store.engine.connect() as conn:
        role = role_of(conn, store, name)
        row = conn.execute(sa.select(credentials.c.hash).where(credentials.c.name == name)).first()
    stored = None if row is None else str(row.hash)
    try:
        ok = _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if role is None:
        why = "unknown or disabled user"
    elif stored is None:
        why = "no password set"
    else:
        why = "wrong password"
    actor = acting_as(store, name[:200])
    with writing(actor, None, actor_role=role or "none") as w:
        if ok and role is not None:
            w.append("login", field=name, new=dumps({"client": client}))
        else:
            w.append("login_failed", field=name, new=dumps({"client": client}), reason=why)
    return role if ok else None


def record_logout(store: Store, role: str) -> None:
    """Record that the acting user logged out."""
    with writing(store, None, actor_role=role) as w:
        w.append("logout", field=store.user)
