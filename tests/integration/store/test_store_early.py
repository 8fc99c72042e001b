"""``db export`` / ``db verify`` read the records while they start (``kypho.store._early``).

Through the CLI, on both engines: the same files, messages and exit statuses
with the early read as without it (``_target`` patched to ``None`` turns it
off), for a store that verifies, one changed behind kypho's back (refused, then
exported with ``--skip-verify``), a user without the right and a missing store;
rows read early are not used when a write came in between (in this process,
and from another process while the early read's transaction is open); the
batch decoded early is used, a damaged one reported the same; every thread the
early read started has ended when the command returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

import kypho.store._early as early_module
from kypho.cli import main
from kypho.store import Store


@pytest.fixture
def store_url(db_url: str, tmp_path: Path, make_patients: Callable[..., pd.DataFrame]) -> str:
    """A store of 30 records imported as one batch, with one record edited and one locked."""
    with Store.init(db_url, admin="ada") as store:
        store.import_frame(make_patients(30), reason="ward 3")
        store.edit("P-00004", {"vas_pre": 3.5}, expected_version=1, reason="source check")
        store.lock("P-00007", reason="monitored")
        store.add_user("ann", "analyst")
        store.add_user("rita", "read_only")
    return db_url


def _run(url: str, *args: str, user: str = "ada") -> Result:
    return CliRunner().invoke(main, ["db", "--url", url, "--user", user, *args])


def _both(
    url: str, monkeypatch: pytest.MonkeyPatch, *args: str, user: str = "ada"
) -> tuple[Result, Result]:
    """The command without the early read, then with it (in halves of a few rows)."""
    with monkeypatch.context() as off:
        off.setattr(early_module, "_target", lambda _url: None)
        without = _run(url, *args, user=user)
    monkeypatch.setattr(early_module, "SPLIT_ROWS", 4)
    return without, _run(url, *args, user=user)


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each early read taken by verify: whether its rows were used."""
    seen: list[bool] = []
    records = early_module.Prefetch.records

    def spy(self: early_module.Prefetch, top: tuple[object, ...]) -> object:
        table = records(self, top)
        seen.append(table is not None)
        return table

    monkeypatch.setattr(early_module.Prefetch, "records", spy)
    return seen


def _early_threads() -> list[threading.Thread]:
    module = early_module.__name__
    return [
        t
        for t in threading.enumerate()
        if getattr(getattr(t, "_target", None), "__module__", None) == module
    ]


def test_export_and_verify_give_the_same_output_with_the_early_read(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, used: list[bool]
) -> None:
    for args in (
        ("export", str(tmp_path / "a.csv")),
        ("export", "--full", "--reason", "monitor visit", str(tmp_path / "full.csv")),
    ):
        without, with_early = _both(store_url, monkeypatch, *args)
        out = Path(args[-1])
        assert without.exit_code == with_early.exit_code == 0
        assert with_early.stdout == without.stdout
        first = out.read_bytes()
        assert _run(store_url, *args).exit_code == 0
        assert out.read_bytes() == first
    without, with_early = _both(store_url, monkeypatch, "verify")
    assert with_early.exit_code == without.exit_code == 0
    assert with_early.stdout == without.stdout
    # two exports and a verify with the early read on each command line: all used
    assert used == [True] * 5
    assert _early_threads() == []


def test_a_store_changed_behind_kyphos_back_is_refused_the_same_way(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, used: list[bool]
) -> None:
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE kypho_records SET vas_pre = 9.5 WHERE patient_id = 'P-00010'"))
    engine.dispose()
    out = tmp_path / "x.csv"
    without, with_early = _both(store_url, monkeypatch, "export", str(out))
    assert without.exit_code == with_early.exit_code == 2
    assert with_early.stderr == without.stderr
    assert "does not verify (1 problem)" in with_early.stderr
    assert not out.exists()
    without, with_early = _both(store_url, monkeypatch, "verify")
    assert with_early.exit_code == without.exit_code == 2
    assert with_early.stderr == without.stderr
    assert "record P-00010" in with_early.stderr
    skip = ("export", "--skip-verify", "checked by hand", str(out))
    assert _run(store_url, *skip).exit_code == 0
    by_early = out.read_bytes()
    monkeypatch.setattr(early_module, "_target", lambda _url: None)
    assert _run(store_url, *skip).exit_code == 0
    assert out.read_bytes() == by_early
    assert used[:3] == [True, True, True]
    assert _early_threads() == []


def test_a_user_without_the_right_and_a_missing_store_get_the_same_errors(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "x.csv"
    for user, args in (
        ("rita", ("export", str(out))),
        ("ann", ("export", "--full", "--reason", "x", str(out))),
        ("nobody", ("verify",)),
    ):
        without, with_early = _both(store_url, monkeypatch, *args, user=user)
        assert without.exit_code == with_early.exit_code == 2
        assert with_early.stderr == without.stderr
        assert "may not" in with_early.stderr or "is not a user" in with_early.stderr
        assert not out.exists()
    assert _early_threads() == []
    if store_url.startswith("sqlite"):
        missing = f"sqlite:///{tmp_path / 'none.db'}"
        without, with_early = _both(missing, monkeypatch, "export", str(out))
        assert without.exit_code == with_early.exit_code == 2
        assert with_early.stderr == without.stderr


def test_rows_read_before_a_write_are_not_used(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, used: list[bool]
) -> None:
    """An edit committed after the early read and before verify's own transaction:
    the export holds the edit (the rows are read again), and verifies."""
    started = early_module.Prefetch.wait_started

    def then_edit(self: early_module.Prefetch) -> None:
        started(self)
        self.join()  # the early read is over: the edit comes after it
        with Store(store_url, user="ada") as store:
            store.edit("P-00005", {"vas_pre": 1.5}, expected_version=1, reason="late edit")

    monkeypatch.setattr(early_module, "SPLIT_ROWS", 4)
    monkeypatch.setattr(early_module.Prefetch, "wait_started", then_edit)
    out = tmp_path / "late.csv"
    result = _run(store_url, "export", str(out))
    assert result.exit_code == 0, result.stderr
    assert used == [False]
    frame = pd.read_csv(out)
    row = frame[frame["patient_id"] == "P-00005"].iloc[0]
    assert row["vas_pre"] == 1.5
    assert row["record_version"] == 2
    assert _early_threads() == []


def test_the_batch_decoded_early_is_used_and_a_damaged_one_reported_the_same(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early read decodes the import's batch; verify takes it (the same text),
    and a batch damaged behind kypho's back gives the same problems either way."""
    taken: list[bool] = []
    batch = early_module.Prefetch.batch

    def spy(self: early_module.Prefetch, seq: int, text: str) -> object:
        table = batch(self, seq, text)
        taken.append(table is not None)
        return table

    monkeypatch.setattr(early_module.Prefetch, "batch", spy)
    result = _run(store_url, "verify")
    assert result.exit_code == 0, result.stderr
    assert taken == [True]
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        on = "ON kypho_audit" if engine.dialect.name == "postgresql" else ""
        conn.execute(sa.text(f"DROP TRIGGER kypho_audit_no_update {on}"))
        conn.execute(
            sa.text(
                "UPDATE kypho_audit SET new_value = '{\"format\": 1}' WHERE action = 'create_batch'"
            )
        )
    engine.dispose()
    without, with_early = _both(store_url, monkeypatch, "verify")
    assert without.exit_code == with_early.exit_code == 2
    assert with_early.stderr == without.stderr
    assert "(create_batch) is malformed and cannot be replayed" in with_early.stderr
    assert taken[-1] is False
    assert _early_threads() == []


def test_another_process_writing_during_the_early_read(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process edits a record while the early read is under way (its read
    transaction open): the export is one consistent state, before or after the edit,
    and the store verifies afterwards."""
    import subprocess
    import sys

    records = early_module._records
    started: list[subprocess.Popen[bytes]] = []
    once = threading.Lock()
    edit = ["db", "--url", store_url, "--user", "ada", "edit", "P-00005", "--set"]
    edit += ["vas_pre=1.5", "--reason", "from another process"]

    def edit_meanwhile(raw: object, where: str, sqlite: bool) -> object:
        with once:
            if not started:
                command = [sys.executable, "-m", "kypho", *edit]
                started.append(
                    subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                )
        return records(raw, where, sqlite)

    monkeypatch.setattr(early_module, "SPLIT_ROWS", 4)
    monkeypatch.setattr(early_module, "_records", edit_meanwhile)
    out = tmp_path / "during.csv"
    result = _run(store_url, "export", "--full", "--reason", "x", str(out))
    assert result.exit_code == 0, result.stderr
    (editor,) = started
    _, err = editor.communicate(timeout=120)
    assert editor.returncode == 0, err
    row = pd.read_csv(out).set_index("patient_id").loc["P-00005"]
    assert (row["record_version"], row["vas_pre"] == 1.5) in {(1, False), (2, True)}
    assert _run(store_url, "verify").exit_code == 0
    monkeypatch.setattr(early_module, "_records", records)
    after = _run(store_url, "export", "--full", "--reason", "x", str(out))
    assert after.exit_code == 0
    assert pd.read_csv(out).set_index("patient_id").loc["P-00005", "vas_pre"] == 1.5
    assert _early_threads() == []
