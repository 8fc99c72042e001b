"""Users and roles: rights checked on every operation, changes in the trail."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
import pytest

from kypho.errors import PermissionDenied, StoreError
from kypho.store import RIGHTS, ROLES, Record, Store

ADMIN = "ada"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.init(db_url, admin=ADMIN)
    yield s
    s.close()


def test_unknown_user_is_refused(db_url: str, store: Store) -> None:
    with Store(db_url, user="mallory") as stranger, pytest.raises(PermissionDenied) as info:
        stranger.read()
    assert str(info.value) == (
        "'mallory' is not a user of this store; an admin can add them with "
        "`kypho db user add mallory --role ROLE` (roles: read_only, analyst, data_entry, "
        "monitor, admin)"
    )


def _identified(record: Record) -> None:
    """Refuse like a missing right when ``show`` withheld the identifying fields."""
    if record.hidden:
        raise PermissionDenied(f"fields withheld: {', '.join(record.hidden)}")


def test_each_role_has_exactly_its_rights(
    db_url: str, store: Store, make_patients: Callable[..., pd.DataFrame]
) -> None:
    store.import_frame(make_patients(len(ROLES)), reason="one record per role")
    for k, role in enumerate(ROLES, start=1):
        store.add_user(role, role)
        record = f"P-{k:05d}"
        with Store(db_url, user=role) as user:
            attempts: dict[str, Callable[[], object]] = {
                "read": user.read,
                "log": user.log,
                "verify": user.verify,
                "read_identified": lambda u=user, r=record: _identified(u.show(r)),
                "import": lambda u=user, k=k: u.import_frame(
                    make_patients(1, start=100 + k), reason="r"
                ),
                "edit": lambda u=user, r=record: u.edit(
                    r, {"age": "70"}, expected_version=1, reason="r"
                ),
                "lock": lambda u=user, r=record: u.lock(r, reason="r"),
                "unlock": lambda u=user, r=record: u.unlock(r, reason="r"),
                "delete": lambda u=user, r=record: u.delete(r, expected_version=2, reason="r"),
                "export": user.export,
                "export_full": lambda u=user: u.export(full=True, reason="r"),
                "log_full": lambda u=user: u.log(full=True, reason="r"),
                "manage_users": lambda u=user: u.add_user(f"new_{u.user}", "read_only"),
                "migrate": user.migrate,
            }
            granted = set()
            for right, attempt in attempts.items():
                try:
                    attempt()
                except PermissionDenied:
                    continue
                except StoreError:
                    pass  # the right was granted (checked first), then e.g. the lock refused
                granted.add(right)
        assert granted == set(RIGHTS[role]), role
    assert store.verify().ok


def test_role_changes_and_disabling_are_recorded(db_url: str, store: Store) -> None:
    store.add_user("bob", "read_only", reason="new monitor")
    store.set_role("bob", "analyst", reason="joined the analysis")
    store.set_active("bob", False, reason="left the study")
    with Store(db_url, user="bob") as bob, pytest.raises(PermissionDenied) as info:
        bob.read()
    assert str(info.value) == "user 'bob' is disabled in this store"
    log = store.log()
    rows = log[log["field"] == "bob"][["action", "old_value", "new_value", "reason", "role"]]
    assert rows.to_dict("records") == [
        {
            "action": "user_add",
            "old_value": None,
            "new_value": '"read_only"',
            "reason": "new monitor",
            "role": "admin",
        },
        {
            "action": "user_role",
            "old_value": '"read_only"',
            "new_value": '"analyst"',
            "reason": "joined the analysis",
            "role": "admin",
        },
        {
            "action": "user_disable",
            "old_value": None,
            "new_value": None,
            "reason": "left the study",
            "role": "admin",
        },
    ]
    users = store.users().set_index("name")
    assert users.loc["bob", "role"] == "analyst"
    assert not users.loc["bob", "active"]


def test_unknown_role_is_refused(store: Store) -> None:
    with pytest.raises(StoreError) as info:
        store.add_user("x", "superuser")
    assert str(info.value) == (
        "unknown role 'superuser'; roles are read_only, analyst, data_entry, monitor, admin"
    )
