"""Benchmark of the commands users run, each timed as a whole process.

Run by hand, e.g.::

    .venv/bin/python benchmarks/bench_cli.py                    # 10², 10⁴, 10⁵
    .venv/bin/python benchmarks/bench_cli.py --million          # also 10⁶
    .venv/bin/python benchmarks/bench_cli.py --sizes 100 --only default --only analyze
    .venv/bin/python benchmarks/bench_cli.py --baseline-src /tmp/old/src   # ratios old / new

Unlike the in-process micro-benchmarks beside it (``bench_report.py``,
``bench_stats.py``, ...), every figure here is a fresh ``kypho`` process, started
as a user starts it: Python's start-up, the imports, reading the file,
validation, derivation, screening, the analysis, the "Beyond the paper" section,
figures and writing every file are all inside the time. For each command the
benchmark prints the median wall time of ``--repeat`` runs (default 3), the
median CPU time (user + system, the process and the workers it waited for: on
a shared machine the steadier figure), the peak resident memory of the process
(its own ``ru_maxrss``, read with ``os.wait4``),
and for ``kypho analyze`` the median time of each of its stages, read from the
stage lines it prints on stderr (``[k/7] ... (elapsed s)``).

Commands (``--only`` picks some; default all):

``default``     ``kypho analyze --out DIR``: the bundled cohort, all formats and
                figures (what ``make run`` does).
``analyze``     ``kypho analyze FILE --out DIR --no-figures`` at each size: no figure
                anywhere (the "Beyond the paper" section's tables and text, no figures).
``nohtml``      ``analyze FILE --no-figures`` with every format but html: no report.html,
                so no "Beyond the paper" section (the issue's "without the HTML report").
``figures``     ``kypho analyze FILE --out DIR`` (all formats and figures, the Beyond
                section's included) at each size.
``registry``    ``kypho analyze FILE.parquet --registry --no-figures``: the chunked,
                column-at-a-time path for files beyond memory. Its input is
                ``cohort_N.parquet`` in ``--data``, written once by ``kypho synth --n N
                --seed 7 --out cohort_N.parquet`` (typed columns, seed 7).
``synth``       ``kypho synth --n N --out FILE.csv`` at each size.
``db``          ``kypho db import FILE`` then ``kypho db export OUT.csv`` at each
                size: SQLite, or with ``--db-url URL`` a fresh database per run on
                that PostgreSQL server.

Issue 17's table, row by row (each line one locked run of under 6 minutes on the
quiet 2-core machine; ``--data /tmp/bench-data`` keeps the inputs between runs)::

    B="flock /work/bench.lock .venv/bin/python benchmarks/bench_cli.py --data /tmp/bench-data"
    $B --only default                                   # default report: first run + warm median
    $B --only analyze --sizes 10000 100000              # analyze --no-figures 10⁴, 10⁵
    $B --only analyze --sizes 1000000                   # analyze --no-figures 10⁶ (peak RSS)
    $B --only nohtml --sizes 1000000                    # the same without report.html
    $B --only figures --sizes 10000                     # analyze with every figure, 10⁴
    $B --only synth --sizes 1000000                     # synth 10⁶
    $B --only db --sizes 100000                         # db import / export 10⁵, SQLite
    url=$(bash scripts/pg.sh start) && $B --only db --sizes 100000 --db-url "$url"; bash scripts/pg.sh stop
    $B --only registry --sizes 10000000 --repeat 1      # registry 10⁷ (run 3 times; median by hand)

Input files are synthetic cohorts written by ``kypho synth`` (seed 7) into the
``--data`` folder and reused between runs (delete the folder to regenerate).
With ``--baseline-src DIR`` each command also runs against another kypho source
tree (``PYTHONPATH=DIR``, e.g. a ``git worktree`` of an older commit), runs
interleaved, and the ratio baseline / current is printed: both measured in the
same session, on the same machine load. Below each figure of several runs a
line lists every run's wall time in the order run (and the baseline's, with the
number of interleaved pairs in which the current tree was faster): on a shared
machine whose speed drifts within minutes, the pairs say more than the medians.

Targets (issue 17): default report ≤ 2 s; ``analyze --no-figures`` ≤ 3 s at 10⁴,
≤ 5 s at 10⁵, ≤ 15 s and ≤ 2 GB at 10⁶; ``synth`` 10⁶ ≤ 10 s; ``db import`` /
``export`` ≥ 50,000 rows/s. No test asserts any of these times.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (100, 10_000, 100_000)
MILLION = 1_000_000
COMMANDS = ("default", "analyze", "nohtml", "figures", "registry", "synth", "db")
STAGE = re.compile(r"^\[(\d+)/(\d+)\] (.*?) \((\d+(?:\.\d+)?) s\)\s*$")
SEED = "7"


@dataclass
class Run:
    """One whole-process run: wall seconds, peak RSS (MiB), stage end times."""

    seconds: float
    peak_mib: float
    stages: list[tuple[str, float]] = field(default_factory=list)
    rc: int = 0
    cpu: float = 0.0


def _kypho_argv(src: Path | None) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.pop("KYPHO_DB_URL", None)
    # As an installed package runs: with byte-code caches (pip writes them at install;
    # without, every run compiles kypho's modules again, ~0.3 s CPU).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if src is None:
        exe = Path(sys.executable).with_name("kypho")
        return [str(exe)], env
    env["PYTHONPATH"] = str(src)
    # The console script's entry point (kypho.cli.run), or main() in a tree without it.
    entry = "import kypho.cli as c; getattr(c, 'run', c.main)()"
    return [sys.executable, "-c", entry], env


def run_process(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Run:
    """Run ``argv`` to completion; its wall time, peak memory and stage lines."""
    with tempfile.TemporaryFile() as err:
        return _run(argv, env, cwd, timeout, err)


def _run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float, err: IO[bytes]) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    text = err.read().decode("utf-8", "replace")
    stages: list[tuple[str, float]] = []
    for line in text.replace("\r", "\n").splitlines():
        match = STAGE.match(line)
        if match:
            stages.append((match.group(3), float(match.group(4))))
    if proc.returncode != 0:
        print(f"    exit {proc.returncode}: {' '.join(argv[-6:])}\n{text[-600:]}", file=sys.stderr)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, usage.ru_maxrss / 1024, stages, proc.returncode, cpu)


def stage_durations(run: Run, total: float) -> list[tuple[str, float]]:
    """Each stage's duration: the next stage's start minus its own; the last to the end."""
    names = [re.sub(r"\d[\d,]* records", "N records", name) for name, _ in run.stages]
    starts = [at for _, at in run.stages]
    ends = [*starts[1:], total]
    return [(name, end - begin) for name, begin, end in zip(names, starts, ends, strict=True)]


def median_stages(runs: list[Run]) -> list[tuple[str, float]]:
    per_run = [stage_durations(r, r.seconds) for r in runs if r.stages]
    if not per_run:
        return []
    names = [name for name, _ in per_run[0]]
    return [
        (name, statistics.median(durations[i][1] for durations in per_run if len(durations) > i))
        for i, name in enumerate(names)
    ]


def _ensure_input(
    n: int, data: Path, argv: list[str], env: dict[str, str], suffix: str, timeout: int
) -> Path:
    """``cohort_N.SUFFIX`` in ``data``, written once by ``kypho synth`` (seed 7) and kept."""
    path = data / f"cohort_{n}.{suffix}"
    if not path.exists():
        print(f"  (writing the {n:,}-patient {suffix} input file with kypho synth)", flush=True)
        tmp = data / f".cohort_{n}.partial.{suffix}"
        line = [*argv, "synth", "--n", str(n), "--seed", SEED, "--quiet", "--out", str(tmp)]
        run = run_process(line, env, data, timeout)
        if run.rc != 0:
            raise SystemExit(f"kypho synth --n {n} --out {tmp.name} failed")
        print(
            f"  (written in {run.seconds:.1f} s, cpu {run.cpu:.1f} s, peak {run.peak_mib:.0f} MiB)"
        )
        tmp.replace(path)
    return path


def ensure_data(n: int, data: Path, argv: list[str], env: dict[str, str]) -> Path:
    """``cohort_N.csv``: the input of ``analyze``, ``nohtml``, ``figures`` and ``db``."""
    return _ensure_input(n, data, argv, env, "csv", 3600)


def ensure_parquet(n: int, data: Path, argv: list[str], env: dict[str, str]) -> Path:
    """``cohort_N.parquet`` for ``registry``: written by ``kypho synth`` (typed columns)."""
    return _ensure_input(n, data, argv, env, "parquet", 7200)


def command_argv(
    command: str, n: int, data: Path, work: Path, argv: list[str], env: dict[str, str]
) -> list[list[str]]:
    """The process command lines of one measurement (db: import, then export)."""
    out = work / "report"
    if command == "default":
        return [[*argv, "analyze", "--out", str(out)]]
    if command == "registry":
        parquet = ensure_parquet(n, data, argv, env)
        registry = [*argv, "analyze", str(parquet), "--registry", "--no-figures"]
        return [[*registry, "--out", str(out)]]
    source = ensure_data(n, data, argv, env)
    if command == "analyze":
        return [[*argv, "analyze", str(source), "--out", str(out), "--no-figures"]]
    if command == "nohtml":
        formats = [arg for fmt in ("md", "csv", "tex", "docx") for arg in ("--format", fmt)]
        return [[*argv, "analyze", str(source), "--out", str(out), "--no-figures", *formats]]
    if command == "figures":
        return [[*argv, "analyze", str(source), "--out", str(out)]]
    if command == "synth":
        target = work / "synth.csv"
        return [[*argv, "synth", "--n", str(n), "--seed", "3", "--quiet", "--out", str(target)]]
    url = _store_url(work)
    return [
        [*argv, "db", "--url", url, "--user", "bench", "init"],
        [*argv, "db", "--url", url, "--user", "bench", "import", str(source), "--reason", "bench"],
        [*argv, "db", "--url", url, "--user", "bench", "export", str(work / "export.csv")],
    ]


#: ``--db-url``: a PostgreSQL server for ``db`` (a fresh database per run), else SQLite.
_PG_SERVER: str | None = None


def _store_url(work: Path) -> str:
    """The store of one db measurement: a new SQLite file, or a new PostgreSQL database."""
    if _PG_SERVER is None:
        return f"sqlite:///{work / 'bench.db'}"
    import sqlalchemy as sa

    name = f"kypho_bench_{work.name.replace('-', '_').lower()}"
    engine = sa.create_engine(_PG_SERVER, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    (work / ".pg_database").write_text(name)
    return sa.make_url(_PG_SERVER).set(database=name).render_as_string(hide_password=False)


def _drop_store(work: Path) -> None:
    marker = work / ".pg_database"
    if _PG_SERVER is None or not marker.exists():
        return
    import sqlalchemy as sa

    engine = sa.create_engine(_PG_SERVER, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{marker.read_text()}"')
    engine.dispose()


def measure(
    command: str,
    n: int,
    data: Path,
    argv: list[str],
    env: dict[str, str],
    timeout: float,
) -> list[Run]:
    """One measurement in a fresh folder; db gives [import, export] runs."""
    work = Path(tempfile.mkdtemp(prefix="kypho-bench-"))
    try:
        lines = command_argv(command, n, data, work, argv, env)
        runs = [run_process(line, env, work, timeout) for line in lines]
        return runs[1:] if command == "db" else runs
    finally:
        _drop_store(work)
        shutil.rmtree(work, ignore_errors=True)


def _fmt_seconds(value: float) -> str:
    return f"{value:8.2f} s" if value < 1000 else f"{value:8.0f} s"


def report(
    label: str,
    n: int,
    runs: list[Run],
    baseline: list[Run] | None,
    per_row: bool,
    first: Run | None = None,
) -> None:
    seconds = statistics.median(r.seconds for r in runs)
    peak = max(r.peak_mib for r in runs)
    failed = sum(r.rc != 0 for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    line = f"{label:<22} {n:>10,} {_fmt_seconds(seconds)}  cpu {cpu:7.2f} s  peak {peak:7.0f} MiB"
    if per_row:
        line += f"  {n / seconds:>10,.0f} rows/s"
    if baseline:
        old = statistics.median(r.seconds for r in baseline)
        old_cpu = statistics.median(r.cpu for r in baseline)
        line += (
            f"  baseline {_fmt_seconds(old)} cpu {old_cpu:.2f} s  "
            f"({old / seconds:5.2f}× faster wall, {old_cpu / max(cpu, 1e-9):5.2f}× cpu)"
        )
    if failed:
        line += f"  [{failed} of {len(runs)} runs FAILED]"
    if first is not None:
        line += f"  (first run, empty cache: {first.seconds:.2f} s, cpu {first.cpu:.2f} s)"
    line += f"  load {os.getloadavg()[0]:.1f}"
    print(line, flush=True)
    if len(runs) > 1:
        # each run in the order run: a median hides how far the machine drifted,
        # and interleaved pairs compare the two trees under the same load
        walls = " ".join(f"{r.seconds:.2f}" for r in runs)
        detail = f"{'':>24}  runs (s): {walls}"
        if baseline:
            detail += "  baseline: " + " ".join(f"{r.seconds:.2f}" for r in baseline)
            pairs = list(zip(runs, baseline, strict=False))
            faster = sum(new.seconds < old.seconds for new, old in pairs)
            detail += f"  (faster in {faster} of {len(pairs)} pairs)"
        print(detail)
    for name, duration in median_stages(runs):
        print(f"{'':>24}  {duration:7.2f} s  {name}")


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--million", action="store_true", help="also run at 10⁶ patients")
    parser.add_argument("--only", action="append", choices=COMMANDS, help="repeatable")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "kypho-bench")
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument(
        "--db-url",
        default=None,
        help="PostgreSQL server URL for `db` (e.g. from scripts/pg.sh start); default SQLite",
    )
    args = parser.parse_args(arguments)
    global _PG_SERVER
    _PG_SERVER = args.db_url
    sizes = sorted(set(args.sizes) | ({MILLION} if args.million else set()))
    commands = args.only or list(COMMANDS)
    args.data.mkdir(parents=True, exist_ok=True)
    argv, env = _kypho_argv(None)
    # A cache of this session only: the first default run starts from an empty one.
    env.setdefault("KYPHO_CACHE_DIR", tempfile.mkdtemp(prefix="kypho-bench-cache-"))
    base = _kypho_argv(args.baseline_src) if args.baseline_src else None
    print(
        f"Whole-process benchmark of kypho's commands: median of {args.repeat} runs "
        f"(wall and CPU), peak RSS of the process; {os.cpu_count()} CPUs; "
        f"load {os.getloadavg()[0]:.1f}; KYPHO_CACHE_DIR={env.get('KYPHO_CACHE_DIR', 'default')}"
    )
    print(f"{'command':<22} {'patients':>10} {'median':>10}")
    for command in commands:
        for n in [110] if command == "default" else sizes:
            current: list[list[Run]] = []
            old: list[list[Run]] = []
            first: Run | None = None
            if command == "default":
                # Not counted: fills the cache (and the byte-code caches) as a user's
                # first run does; the median is of the runs after it.
                first = measure(command, n, args.data, argv, env, args.timeout)[0]
                if base is not None:
                    measure(command, n, args.data, *base, args.timeout)
            for _ in range(args.repeat):
                current.append(measure(command, n, args.data, argv, env, args.timeout))
                if base is not None:
                    old.append(measure(command, n, args.data, *base, args.timeout))
            parts = ["import", "export"] if command == "db" else [command]
            for i, part in enumerate(parts):
                store = "postgresql" if _PG_SERVER else "sqlite"
                label = f"db {part} ({store})" if command == "db" else command
                report(
                    label,
                    n,
                    [r[i] for r in current],
                    [r[i] for r in old] if old else None,
                    per_row=command == "db",
                    first=first,
                )


if __name__ == "__main__":
    main()
