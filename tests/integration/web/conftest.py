"""Fixtures of the web application's tests: a store with one user per role, logged-in clients.

The database fixture (``db_url``: SQLite, and PostgreSQL when ``KYPHO_PG_URL`` is
set) and the patient generator are the store tests' own, loaded from
``tests/integration/store/conftest.py``. Password hashing uses cheap argon2
parameters here so that logging in dozens of times stays fast; the hash format
and code path are the production ones.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from kypho.store import Store
from kypho.store.auth import set_password
from kypho.web import Settings, create_app

_spec = importlib.util.spec_from_file_location(
    "kypho_store_test_fixtures", Path(__file__).parents[1] / "store" / "conftest.py"
)
assert _spec is not None
assert _spec.loader is not None
_store_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_store_fixtures)
new_db_url = _store_fixtures.new_db_url
db_url = _store_fixtures.db_url
patients = _store_fixtures.patients

#: user -> role; every role of the store and the workflow
USERS = {
    "ada": "admin",
    "dora": "data_entry",
    "mona": "monitor",
    "ana": "analyst",
    "rita": "read_only",
}
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    import kypho.store.auth as auth

    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(auth, "_HASHER", cheap)
    monkeypatch.setattr(auth, "_DUMMY", cheap.hash("dummy"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store with 5 patients and one user per role, each with :data:`PASSWORD`."""
    with Store.init(db_url, admin="ada") as st:
        st.import_frame(patients(5), reason="test records")
        for name, role in USERS.items():
            if name != "ada":
                st.add_user(name, role)
            set_password(st, name, PASSWORD)
        st.add_user("zed", "read_only")
        yield st


class Clock:
    """A settable clock for session expiry."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(store: Store, clock: Clock) -> object:
    return create_app(store, Settings(secret="test-secret"), clock=clock)


def csrf_of(text: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', text)
    assert match is not None, text[:500]
    return match.group(1)


class Browser:
    """A TestClient with the page's CSRF token at hand."""

    def __init__(self, app: object) -> None:
        self.client = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
        self.csrf = ""

    def login(self, name: str, password: str = PASSWORD) -> int:
        page = self.client.get("/login")
        self.csrf = csrf_of(page.text)
        response = self.client.post(
            "/login", data={"name": name, "password": password, "csrf": self.csrf}
        )
        if response.status_code == 303:
            self.csrf = csrf_of(self.client.get("/").text)
        return response.status_code

    def get(self, url: str, **kw: object) -> object:
        return self.client.get(url, **kw)  # type: ignore[arg-type]

    def post(self, url: str, data: dict[str, object] | None = None, **kw: object) -> object:
        body = {"csrf": self.csrf, **(data or {})}
        return self.client.post(url, data=body, **kw)  # type: ignore[arg-type]


@pytest.fixture
def browser(app: object) -> Callable[..., Browser]:
    """``browser("dora")``: a client logged in as that user."""

    def make(name: str | None = None) -> Browser:
        b = Browser(app)
        if name is not None:
            assert b.login(name) == 303
        return b

    return make
