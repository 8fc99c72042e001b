"""The output-folder matrix of ``kypho analyze --out DIR`` (issue #16).

Each scenario puts files kypho did not write into DIR, runs ``analyze`` (with
and without ``--force`` where that matters), and checks that every one of those
files is byte for byte what it was (SHA-256 before and after), that a refusal
is a plain message (exit 2, no traceback) and that nothing of the report was
published when the run was refused.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kypho.analysis.demo import demo_cohort
from kypho.cli import main
from kypho.output.folder import STAGING_MARKER, STAGING_PREFIX


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "cohort.csv"
    demo_cohort(40, seed=4).to_csv(path, index=False)
    return path


def analyze(data: Path, out: Path, *extra: str, formats: tuple[str, ...] = ("md",)) -> Result:
    args = ["analyze", str(data), "--out", str(out), "--no-figures", "-q"]
    for fmt in formats:
        args += ["--format", fmt]
    return CliRunner().invoke(main, [*args, *extra])


def hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (symbolic links as their target text)."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[name] = "link:" + os.readlink(path)
        elif path.is_file():
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def untouched(before: dict[str, str], folder: Path) -> None:
    after = hashes(folder)
    assert {name: after.get(name) for name in before} == before


def refused(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: "), last
    assert fragment in last, last
    assert "Traceback" not in result.output


def user_files(out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "notes.txt").write_text("my notes", encoding="utf-8")
    (out / "thesis.docx").write_bytes(b"PK\x03\x04 my thesis")
    return hashes(out)


def test_new_folder_gets_a_marked_manifest(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "report"
    result = analyze(cohort, out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["generator"] == "kypho"
    assert manifest["complete"] is True
    assert sorted(p.name for p in out.iterdir()) == ["MANIFEST.json", "report.md"]


def test_foreign_non_empty_folder_is_refused_without_force(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = user_files(out)
    refused(analyze(cohort, out), "the folder is not empty (2 entries: notes.txt, thesis.docx)")
    assert hashes(out) == before


def test_force_writes_beside_foreign_files(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = user_files(out)
    result = analyze(cohort, out, "--force")
    assert result.exit_code == 0, result.output
    untouched(before, out)
    assert (out / "report.md").is_file()
    # a second run (kypho's folder now) replaces its own files and still none of the others
    result = analyze(cohort, out, formats=("csv",))
    assert result.exit_code == 0, result.output
    untouched(before, out)
    assert not (out / "report.md").exists()
    assert (out / "results.csv").is_file()


def test_users_figures_folder_is_never_touched(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "my_plot.png").write_bytes(b"\x89PNG mine")
    (out / "figures" / "figure1_vas.png").write_bytes(b"\x89PNG also mine")
    before = hashes(out)
    args = ["analyze", str(cohort), "--out", str(out), "--format", "md", "-q"]
    refused(CliRunner().invoke(main, args), "the folder is not empty")
    refused(CliRunner().invoke(main, [*args, "--force"]), "holds files kypho did not write")
    assert hashes(out) == before


def test_users_figures_folder_survives_a_rerun_without_figures(
    cohort: Path, tmp_path: Path
) -> None:
    """A figures/ folder added by the user after a kypho run is not kypho's to delete."""
    out = tmp_path / "out"
    assert analyze(cohort, out).exit_code == 0
    (out / "figures").mkdir()
    (out / "figures" / "mine.svg").write_text("<svg/>", encoding="utf-8")
    before = hashes(out / "figures")
    assert analyze(cohort, out).exit_code == 0
    assert hashes(out / "figures") == before


@pytest.mark.parametrize("force", [False, True])
def test_foreign_manifest_is_never_a_deletion_list(
    cohort: Path, tmp_path: Path, force: bool
) -> None:
    out = tmp_path / "out"
    before = user_files(out)
    listing = {"files": [{"path": "notes.txt"}, {"path": "thesis.docx"}, {"path": "report.md"}]}
    (out / "MANIFEST.json").write_text(json.dumps(listing), encoding="utf-8")
    (out / "report.md").write_text("my own report", encoding="utf-8")
    before = hashes(out)
    result = analyze(cohort, out, *(["--force"] if force else []))
    refused(result, "kypho will not replace" if force else "the folder is not empty")
    assert hashes(out) == before


def test_forged_kypho_manifest_deletes_only_files_it_vouches_for(
    cohort: Path, tmp_path: Path
) -> None:
    """Even a manifest with kypho's marker only covers files whose SHA-256 still matches."""
    out = tmp_path / "out"
    before = user_files(out)
    forged = {
        "generator": "kypho",
        "files": [
            {"path": "notes.txt", "sha256": "0" * 64},
            {"path": "../outside.txt", "sha256": "0" * 64},
        ],
    }
    (out / "MANIFEST.json").write_text(json.dumps(forged), encoding="utf-8")
    (tmp_path / "outside.txt").write_text("outside", encoding="utf-8")
    result = analyze(cohort, out)
    assert result.exit_code == 0, result.output
    untouched(before, out)
    assert (tmp_path / "outside.txt").read_text(encoding="utf-8") == "outside"


@pytest.mark.parametrize("name", ["results.csv", "tables.csv", "data_quality.csv"])
@pytest.mark.parametrize("force", [False, True])
def test_input_inside_out_is_never_overwritten(tmp_path: Path, name: str, force: bool) -> None:
    out = tmp_path / "out"
    out.mkdir()
    data = out / name
    raw = demo_cohort(40, seed=4)
    raw["age"] = raw["age"].astype(object)
    raw.loc[3, "age"] = "old"  # a rejected row, so that data_quality.csv is written
    raw.to_csv(data, index=False)
    before = hashes(out)
    result = analyze(data, out, *(["--force"] if force else []), formats=("csv",))
    refused(result, "is inside the output folder" if force else "the folder is not empty")
    assert hashes(out) == before


def test_input_inside_a_kypho_folder_is_never_overwritten(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert analyze(cohort, out, formats=("csv",)).exit_code == 0
    data = out / "results.csv"
    # the user overwrites kypho's results.csv with records and analyses that file
    data.write_bytes(cohort.read_bytes())
    before = hashes(out)
    refused(analyze(data, out, formats=("csv",)), "is inside the output folder")
    assert hashes(out) == before


@pytest.mark.parametrize("name", ["report.html", "report.md"])
@pytest.mark.parametrize("force", [False, True])
def test_users_report_file_is_not_overwritten(
    cohort: Path, tmp_path: Path, name: str, force: bool
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("<p>my report</p>", encoding="utf-8")
    before = hashes(out)
    result = analyze(cohort, out, *(["--force"] if force else []), formats=("md", "html"))
    refused(result, "kypho will not replace" if force else "the folder is not empty")
    assert hashes(out) == before


def test_kypho_file_changed_by_the_user_is_not_replaced(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert analyze(cohort, out).exit_code == 0
    (out / "report.md").write_text("edited by hand", encoding="utf-8")
    before = hashes(out)
    refused(analyze(cohort, out), "kypho did not write it (or it was changed since)")
    assert hashes(out) == before
    # and a changed file that this run does not write again is not deleted either
    assert analyze(cohort, out, formats=("csv",)).exit_code == 0
    assert (out / "report.md").read_text(encoding="utf-8") == "edited by hand"


def test_symbolic_link_is_not_followed(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert analyze(cohort, out).exit_code == 0
    target = tmp_path / "elsewhere.md"
    target.write_text("elsewhere", encoding="utf-8")
    (out / "report.md").unlink()
    (out / "report.md").symlink_to(target)
    refused(analyze(cohort, out), "it is a link kypho did not write")
    assert target.read_text(encoding="utf-8") == "elsewhere"


def test_leftover_staging_folders(cohort: Path, tmp_path: Path) -> None:
    """kypho's own staging folder of a dead process goes; anything else stays."""
    out = tmp_path / "out"
    assert analyze(cohort, out).exit_code == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    ours = out / f"{STAGING_PREFIX}dead1"
    ours.mkdir()
    marker = {"generator": "kypho", "pid": int(dead.stdout), "host": socket.gethostname()}
    (ours / STAGING_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    (ours / "report.md").write_text("half a report", encoding="utf-8")
    alive = out / f"{STAGING_PREFIX}alive"
    alive.mkdir()
    marker_alive = {**marker, "pid": os.getpid()}
    (alive / STAGING_MARKER).write_text(json.dumps(marker_alive), encoding="utf-8")
    other = out / f"{STAGING_PREFIX}not-kypho"
    other.mkdir()
    (other / "data.bin").write_bytes(b"someone else's")
    keep = hashes(other) | {"alive": hashes(alive)[STAGING_MARKER]}
    assert analyze(cohort, out).exit_code == 0
    assert not ours.exists()
    assert hashes(other) | {"alive": hashes(alive)[STAGING_MARKER]} == keep


def test_read_only_folder_is_a_clear_error(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # the tests may run as root, for whom chmod does not stop writes: ask os.access
    monkeypatch.setattr("kypho.output.folder._writable", lambda folder: False)
    refused(analyze(cohort, out), f"cannot write into the output folder {str(out)!r}: it is")


def test_output_path_that_is_a_file(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("a file", encoding="utf-8")
    result = analyze(cohort, out)
    assert result.exit_code == 2
    assert "'--out'" in result.stderr  # click's own check
    assert "is a file" in result.stderr
    assert out.read_text(encoding="utf-8") == "a file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_by_mode(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        refused(analyze(cohort, out), "cannot write into the output folder")
    finally:
        out.chmod(0o700)


def test_full_disk_while_writing_is_a_clear_error(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert analyze(cohort, out, formats=("csv",)).exit_code == 0
    before = hashes(out)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    # kypho writes CSV through its own writer (and pandas for what it does not format)
    monkeypatch.setattr("kypho.output.cells.CsvWriter._emit", full)
    monkeypatch.setattr("pandas.DataFrame.to_csv", full)
    refused(analyze(cohort, out, formats=("csv",)), "No space left on device")
    assert hashes(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_full_disk_while_publishing_is_a_clear_error(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert analyze(cohort, out).exit_code == 0

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("kypho.output.folder.os.replace", full)
    refused(analyze(cohort, out), "cannot publish the report")
    monkeypatch.undo()
    # the folder is still kypho's: the next run replaces its files
    assert analyze(cohort, out).exit_code == 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (
            (task / "children").read_text(encoding="ascii") if (task / "children").exists() else ""
        )
        found += [int(p) for p in text.split()]
    return found


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the report uses a worker only on 2+ cores")
def test_sigkilled_analyze_leaves_no_worker_and_next_run_cleans_up(
    cohort: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-c", "from kypho.cli import main; main()"]
    command += ["analyze", str(cohort), "--out", str(out)]
    process = subprocess.Popen(
        [*command, "--format", "html", "--no-figures", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    staging = False
    deadline = time.monotonic() + 60
    # The Beyond worker starts after screening, the staging folder when the report is written.
    while time.monotonic() < deadline and process.poll() is None and not (workers and staging):
        workers = workers or _children(process.pid)
        staging = out.is_dir() and any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())
        time.sleep(0.05)
    if not (workers and staging):
        process.kill()
        process.wait()
        pytest.skip("the run finished before its worker and staging folder could be seen")
    time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(w) for w in workers):
        time.sleep(0.1)
    left = [w for w in workers if _running(w)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []
    staged = [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]
    assert staged, "the killed run should have left its staging folder"
    assert analyze(cohort, out).exit_code == 0
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]
