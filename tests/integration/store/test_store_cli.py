"""``kypho db`` through click's test runner, on both engines."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from kypho.cli import main
from kypho.store import load_from_store


@pytest.fixture
def kypho(db_url: str) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str, user: str = "ada", env: dict[str, str] | None = None) -> Result:
        return runner.invoke(
            main, ["db", "--url", db_url, "--user", user, *args], env=env, catch_exceptions=False
        )

    return run


def _lines(result: Result) -> Sequence[str]:
    return result.stdout.splitlines()


def test_a_study_from_init_to_verified_export(
    kypho: Callable[..., Result],
    db_url: str,
    tmp_path: Path,
    make_patients: Callable[..., pd.DataFrame],
) -> None:
    shown = sa.make_url(db_url).render_as_string(hide_password=True)
    result = kypho("init")
    assert result.exit_code == 0
    assert result.stdout == f"created a study store at {shown}; admin: ada\n"
    raw = make_patients(6)
    raw.loc[2, "age"] = "7"
    raw.to_csv(tmp_path / "ward.csv", index=False)
    report = tmp_path / "problems.csv"
    result = kypho(
        "import", str(tmp_path / "ward.csv"), "--reason", "ward 3", "--report", str(report)
    )
    assert result.exit_code == 1
    assert _lines(result) == [
        "6 rows read: 5 imported, 1 rejected (1 problem)",
        "  record P-00003 (line 4), 'age' must be a whole number from 18 to 120 (got 7)",
    ]
    assert pd.read_csv(report)["row"].tolist() == [4]

    result = kypho("edit", "P-00001", "--set", "vas_pre=2.5", "--reason", "source check")
    assert result.exit_code == 0
    assert _lines(result)[0] == "record P-00001 is now version 2"
    assert _lines(result)[1].startswith("  vas_pre: ")
    assert _lines(result)[1].endswith(" -> 2.5")

    assert kypho("user", "add", "dora", "--role", "data_entry").stdout == (
        "added user dora (data_entry)\n"
    )
    assert kypho("user", "add", "mona", "--role", "monitor").exit_code == 0
    assert kypho("lock", "P-00002", "--reason", "monitored", user="mona").exit_code == 0
    result = kypho("edit", "P-00002", "--set", "age=70", "--reason", "x", user="dora")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: record P-00002 is locked (by mona); a user with the unlock right (admin) must "
        "unlock it before it can be changed\n"
    )
    result = kypho("edit", "P-00001", "--set", "age=70", "--version", "1", "--reason", "x")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: record P-00001 was changed by someone else")

    result = kypho("log", "--record", "P-00001")
    assert _lines(result)[0] == "record P-00001: version 2, not locked"
    # created by the import's batch (one entry for its 5 records), then edited
    assert [line.split()[4] for line in _lines(result)[1:]] == ["create_batch", "update"]
    assert "(source check)" in _lines(result)[2]

    result = kypho("verify")
    assert result.exit_code == 0
    assert result.stdout.startswith("audit trail verified: 8 entries, 5 records, head ")

    out = tmp_path / "shared.csv"
    result = kypho("export", str(out))
    assert result.stdout == f"wrote 5 de-identified records to {out}\n"
    text = out.read_text(encoding="utf-8")
    assert not any(name in text for name in raw["patient_name"])

    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE kypho_records SET age = 99 WHERE patient_id = 'P-00004'"))
    engine.dispose()
    result = kypho("verify")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: audit trail does NOT verify: 1 problem:"


def test_url_and_user_from_the_environment(
    db_url: str, make_patients: Callable[..., pd.DataFrame], tmp_path: Path
) -> None:
    env = {"KYPHO_DB_URL": db_url, "KYPHO_USER": "ada"}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "init"], env=env).exit_code == 0
    make_patients(3).to_csv(tmp_path / "a.csv", index=False)
    result = runner.invoke(
        main, ["db", "import", str(tmp_path / "a.csv"), "--reason", "r"], env=env
    )
    assert result.exit_code == 0, result.output
    frame = load_from_store(db_url, user="ada")
    assert frame["patient_id"].tolist() == ["P-00001", "P-00002", "P-00003"]
    result = runner.invoke(main, ["db", "--user", "nobody", "verify"], env=env)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: 'nobody' is not a user of this store; an admin can add them with "
        "`kypho db user add nobody --role ROLE` (roles: read_only, analyst, data_entry, "
        "monitor, admin)\n"
    )


def test_default_store_is_kypho_db_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KYPHO_DB_URL", raising=False)
    result = CliRunner().invoke(main, ["db", "--user", "ada", "init"])
    assert result.stdout == "created a study store at sqlite:///kypho.db; admin: ada\n"
    assert (tmp_path / "kypho.db").is_file()
    result = CliRunner().invoke(main, ["db", "--user", "ada", "user", "list"])
    assert result.stdout == "ada\tadmin\n"


def test_migrate_and_delete_from_the_command_line(
    kypho: Callable[..., Result], tmp_path: Path, make_patients: Callable[..., pd.DataFrame]
) -> None:
    assert kypho("init").exit_code == 0
    make_patients(2).to_csv(tmp_path / "a.csv", index=False)
    assert kypho("import", str(tmp_path / "a.csv"), "--reason", "r").exit_code == 0
    extension = tmp_path / "d3.yaml"
    extension.write_text("extend_repeated: {vas: [d3]}\n", encoding="utf-8")
    ext = ("--extension", str(extension))
    result = kypho(*ext, "migrate")
    assert (result.exit_code, result.stdout) == (0, "added column(s): vas_d3\n")
    result = kypho("verify")
    assert result.exit_code == 2
    assert "does not match the schema given; an admin must run `kypho db migrate`" in (
        result.stderr
    )
    result = kypho(*ext, "verify")
    assert result.stdout.startswith("audit trail verified: 5 entries, 2 records")
    result = kypho(*ext, "delete", "P-00002", "--reason", "duplicate patient")
    assert result.stdout == "deleted record P-00002\n"
    assert kypho(*ext, "verify").stdout.startswith("audit trail verified: 6 entries, 1 records")


def test_import_export_import_gives_the_same_records_and_file(
    kypho: Callable[..., Result],
    db_url: str,
    tmp_path: Path,
    make_patients: Callable[..., pd.DataFrame],
) -> None:
    # the store of the test's engine, then a second (SQLite) store fed its export
    raw = make_patients(30)
    raw.loc[3, "notes"] = 'a "quoted", two-line\nnote'
    raw.to_csv(tmp_path / "ward.csv", index=False)
    assert kypho("init").exit_code == 0
    assert kypho("import", str(tmp_path / "ward.csv"), "--reason", "first").exit_code == 0
    first = tmp_path / "first.csv"
    assert kypho("export", str(first), "--full", "--reason", "round trip").exit_code == 0

    runner = CliRunner()
    second_url = f"sqlite:///{tmp_path / 'second.db'}"

    def again(*args: str) -> Result:
        return runner.invoke(
            main, ["db", "--url", second_url, "--user", "ada", *args], catch_exceptions=False
        )

    assert again("init").exit_code == 0
    result = again("import", str(first), "--reason", "second")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "30 rows read: 30 imported, 0 rejected (0 problems)"
    second = tmp_path / "second.csv"
    assert again("export", str(second), "--full", "--reason", "round trip").exit_code == 0
    assert second.read_bytes() == first.read_bytes()
    pd.testing.assert_frame_equal(
        load_from_store(second_url, user="ada"), load_from_store(db_url, user="ada")
    )
