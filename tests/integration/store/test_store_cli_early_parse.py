"""``kypho db import`` begins Arrow's parse of a CSV file early; its errors are read_table's.

The command starts the parse in a worker thread while it imports pandas and
opens the store (:mod:`kypho.io._early`). A file the early parse cannot read
is read again by read_table, so the user sees exactly the message read_table
gives, and the rows validation reports, as before. SQLite only: the early
parse happens before the store is opened, whatever the engine.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from kypho.cli import main
from kypho.errors import InputFileError
from kypho.io import _csvfile, _early, read_table
from kypho.store._sqlite_direct import DirectSqlite


@pytest.fixture
def kypho(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``kypho db ARGS`` on a new store, and again without the early parse: same output."""
    runner = CliRunner()
    stores = iter(range(1_000))

    def once(*args: str) -> Result:
        url = f"sqlite:///{tmp_path}/study-{next(stores)}.db"
        assert runner.invoke(main, ["db", "--url", url, "--user", "ada", "init"]).exit_code == 0
        return runner.invoke(main, ["db", "--url", url, "--user", "ada", *args])

    def run(*args: str) -> Result:
        with monkeypatch.context() as patch:
            patch.setattr(_early, "early_parse", lambda path, schema: contextlib.nullcontext())
            before = once(*args)
        now = once(*args)
        assert (now.exit_code, now.stdout, now.stderr) == (
            before.exit_code,
            before.stdout,
            before.stderr,
        )
        return now

    return run


def _read_error(path: Path) -> str:
    with pytest.raises(InputFileError) as info:
        read_table(path)
    return str(info.value)


def _no_thread_left() -> bool:
    return not [t for t in threading.enumerate() if t.name == "kypho-early-csv"]


def test_a_good_file_is_imported_from_the_early_parse(
    kypho: Callable[..., Result],
    tmp_path: Path,
    make_patients: Callable[..., pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claimed: list[bool] = []
    original = _csvfile.claim

    def spy(path: Path, arguments: object) -> object:
        table = original(path, arguments)
        claimed.append(table is not None)
        return table

    monkeypatch.setattr(_csvfile, "claim", spy)
    appended: list[str] = []
    append = DirectSqlite.append

    def appending(self: DirectSqlite, table: Any, data: Any) -> None:
        appended.append(table.name)
        append(self, table, data)

    monkeypatch.setattr(DirectSqlite, "append", appending)
    path = tmp_path / "ward.csv"
    make_patients(5).to_csv(path, index=False)
    result = kypho("import", str(path), "--reason", "ward 3")
    assert result.exit_code == 0
    assert result.stdout == "5 rows read: 5 imported, 0 rejected (0 problems)\n"
    # the run without the early parse read the file itself; the run with it took its table
    assert claimed == [False, True]
    # the command writes a SQLite file by ADBC, in the import's own transaction
    assert appended == ["kypho_records", "kypho_audit"] * 2
    assert _no_thread_left()


def test_a_bad_utf8_byte_after_the_header(
    kypho: Callable[..., Result], tmp_path: Path, make_patients: Callable[..., pd.DataFrame]
) -> None:
    path = tmp_path / "ward.csv"
    make_patients(3).to_csv(path, index=False)
    text = path.read_bytes()
    at = text.index(b"\n") + 5
    path.write_bytes(text[:at] + b"\xff" + text[at:])
    result = kypho("import", str(path), "--reason", "ward 3")
    assert result.exit_code == 2
    message = f"cannot read {str(path)!r}: not UTF-8 text (byte {at}); save it as 'CSV UTF-8'"
    assert _read_error(path) == message
    assert result.stderr == f"error: {message}\n"
    assert _no_thread_left()


def test_a_ragged_line_is_reported_by_validation(
    kypho: Callable[..., Result], tmp_path: Path, make_patients: Callable[..., pd.DataFrame]
) -> None:
    path = tmp_path / "ward.csv"
    make_patients(3).to_csv(path, index=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    width = lines[0].count(",") + 1
    lines[2] = ",".join(lines[2].split(",")[:4])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = kypho("import", str(path), "--reason", "ward 3")
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert out[0].startswith("3 rows read: 2 imported, 1 rejected (")
    cut = f"line 3 has 4 of the header's {width} fields (cut short?); fix the line in the file"
    assert f"  record P-00002 (line 3), 'group' could not be read: {cut} (got '')" in out
    assert all("(line 3)" in line for line in out[1:])
    assert _no_thread_left()


def test_an_unreadable_file(kypho: Callable[..., Result], tmp_path: Path) -> None:
    """A file whose first read fails (Linux's /proc/self/mem, read at offset 0, gives EIO)."""
    memory = Path("/proc/self/mem")
    if not memory.exists():
        pytest.skip("needs Linux's /proc/self/mem: a file that exists and cannot be read")
    path = tmp_path / "ward.csv"
    path.symlink_to(memory)
    result = kypho("import", str(path), "--reason", "ward 3")
    assert result.exit_code == 2
    message = f"cannot read {str(path)!r}: Input/output error"
    assert _read_error(path) == message
    assert result.stderr == f"error: {message}\n"
    assert _no_thread_left()
