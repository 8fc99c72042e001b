"""Fixtures of the store tests: a fresh database on every engine, and patients.

Every test that takes ``db_url`` runs once on SQLite (a file in ``tmp_path``)
and once on PostgreSQL when ``KYPHO_PG_URL`` names a running server (started by
``scripts/pg.sh``, which ``scripts/test.sh`` runs); each PostgreSQL test gets a
schema (namespace) of its own, dropped afterwards. No database is mocked.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("KYPHO_PG_URL")

_ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                PG_URL is None, reason="KYPHO_PG_URL not set: run the tests with scripts/test.sh"
            ),
        ],
    ),
]


@pytest.fixture(params=_ENGINES)
def new_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A maker of URLs of empty databases on one engine: each call a new one, removed after the test."""
    schemas: list[str] = []
    admin = (
        sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        if request.param != "sqlite"
        else None
    )

    def make() -> str:
        if admin is None:
            files = len(list(tmp_path.glob("study*.db")))
            return f"sqlite:///{tmp_path / ('study.db' if not files else f'study-{files}.db')}"
        assert PG_URL is not None
        # a PostgreSQL schema (namespace) per database: as isolated as a database
        # for the store's tables, and far cheaper to create than CREATE DATABASE
        name = f"kypho_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        schemas.append(name)
        url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={name}"})
        return url.render_as_string(hide_password=False)

    try:
        yield make
    finally:
        if admin is not None:
            with admin.connect() as conn:
                for name in schemas:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            admin.dispose()


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    """A URL of an empty database (``study.db`` in ``tmp_path`` on SQLite)."""
    return new_db_url()


_LEVELS = ["T11", "T12", "L1", "L2"]


def patients(n: int, *, seed: int = 0, start: int = 1) -> pd.DataFrame:
    """``n`` valid raw records (text cells, as read from a CSV) with identifiers."""
    rng = np.random.default_rng(seed)
    ids = np.arange(start, start + n)
    op = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    follow = op + pd.to_timedelta(rng.integers(180, 700, n), unit="D")
    age = rng.integers(60, 95, n)
    birth = op - pd.to_timedelta(age * 365 + rng.integers(0, 300, n), unit="D")
    yes_no = np.array(["yes", "no"])
    return pd.DataFrame(
        {
            "patient_id": [f"P-{i:05d}" for i in ids],
            "patient_name": [f"Name{i}x Surname{i}y" for i in ids],
            "hospital_number": [f"H{9000000 + i}" for i in ids],
            "birth_date": birth.strftime("%Y-%m-%d"),
            "notes": [f"lives at {i} Elm Street" for i in ids],
            "group": np.where(ids % 2 == 0, "experimental", "control"),
            "sex": np.where(rng.random(n) < 0.6, "female", "male"),
            "age": age.astype(str),
            "operation_date": op.strftime("%Y-%m-%d"),
            "last_followup_date": follow.strftime("%Y-%m-%d"),
            "pain": yes_no[rng.integers(0, 2, n)],
            "level": np.array(_LEVELS)[rng.integers(0, 4, n)],
            "bmd_t_score": np.round(rng.normal(-3.2, 0.5, n), 1).astype(str),
            "asia_grade": "E",
            "operation_time": np.round(rng.normal(40, 8, n), 2).astype(str),
            "vas_pre": np.round(rng.uniform(5, 9, n), 1).astype(str),
            "vas_2h": np.round(rng.uniform(1, 4, n), 1).astype(str),
            "leak_sites": np.array(["none", "C", "C;S", ""])[rng.integers(0, 4, n)],
        }
    )


@pytest.fixture
def make_patients() -> Callable[..., pd.DataFrame]:
    """The :func:`patients` generator."""
    return patients
