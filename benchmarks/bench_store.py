"""Import and export throughput of the study store on SQLite and PostgreSQL.

Run by hand (``make bench`` or ``.venv/bin/python benchmarks/bench_store.py``):
generates 100,000 valid patients with a vectorised generator, then for each
engine imports them into a fresh store and exports them (de-identified) several
times, and prints the median rows per second. PostgreSQL is started with
``scripts/pg.sh`` unless ``KYPHO_PG_URL`` names a running server; it is skipped
when neither works. Import time includes validation, the hash-chained audit
trail (an ``import`` entry and one ``create_batch`` entry holding every record
as Parquet, :mod:`kypho.store.batch`) and the commit; validation alone is timed
too, to show the store's share. Export time includes reading, typing,
de-identification and the export's audit entry.

With ``--stages``, one more import per engine is timed stage by stage (wall
and CPU seconds of the thread that runs the stage: the batch is encoded in a
second thread while the records are sent): validation, the records as Arrow
columns, the batch's Parquet, the records' bulk insert (SQLite: ADBC's append
in the import's own transaction on ADBC's connection, as ``kypho db import``
does with ``exclusive=True``; PostgreSQL: binary COPY), the audit rows and the
commit. All of this is an in-process micro-benchmark: the whole
``kypho db import`` process is timed by ``benchmarks/bench_cli.py --only db``.

Options: ``--n`` patients (100000), ``--runs`` (3), ``--engines`` (sqlite,postgresql),
``--stages``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from kypho.schema import Schema, load_schema
from kypho.store import Store

ROOT = Path(__file__).resolve().parent.parent


def generate(n: int, schema: Schema, *, seed: int = 2026) -> pd.DataFrame:
    """``n`` patients valid per ``schema``: every input column, typed, with identifiers."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    op = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")
    columns: dict[str, object] = {}
    for var in schema.input_variables:
        name = var.name
        if name == schema.id_column:
            columns[name] = [f"P-{i:06d}" for i in ids]
        elif name == "operation_date":
            columns[name] = op
        elif name == "last_followup_date":
            columns[name] = op + pd.to_timedelta(rng.integers(180, 900, n), unit="D")
        elif name == "birth_date":
            columns[name] = op - pd.to_timedelta(rng.integers(60 * 365, 95 * 365, n), unit="D")
        elif var.type == "date":
            columns[name] = op
        elif var.type in ("id", "string"):
            columns[name] = [f"{name} {i}" for i in ids]
        elif var.type in ("category", "ordinal"):
            columns[name] = np.array(var.codes)[rng.integers(0, len(var.codes), n)]
        elif var.type == "list":
            columns[name] = np.array(["", var.codes[0], ";".join(var.codes[:2])])[
                rng.integers(0, 3, n)
            ]
        elif var.type == "boolean":
            columns[name] = rng.random(n) < 0.5
        else:
            lo = 0.0 if var.min is None else float(var.min)  # type: ignore[arg-type]
            hi = lo + 100.0 if var.max is None else float(var.max)  # type: ignore[arg-type]
            if name == "age":
                lo, hi = 60.0, 95.0
            values = rng.uniform(lo, hi, n)
            columns[name] = (
                np.floor(values).astype(np.int64) if var.type == "integer" else values.round(2)
            )
    return pd.DataFrame(columns)


@contextmanager
def postgres_url() -> Iterator[str | None]:
    url = os.environ.get("KYPHO_PG_URL")
    if url:
        yield url
        return
    started = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pg.sh"), "start"], capture_output=True, text=True
    )
    if started.returncode != 0:
        print(f"PostgreSQL not available, skipped:\n{started.stderr}", file=sys.stderr)
        yield None
        return
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "stop"], check=False)


@contextmanager
def fresh_database(engine: str, pg_url: str | None) -> Iterator[str]:
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    assert pg_url is not None
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    try:
        yield (
            sa.make_url(pg_url)
            .update_query_dict({"options": f"-csearch_path={name}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def bench(engine: str, pg_url: str | None, data: pd.DataFrame, runs: int) -> dict[str, float]:
    imports: list[float] = []
    exports: list[float] = []
    for _ in range(runs):
        with fresh_database(engine, pg_url) as url, Store.init(url, admin="bench") as store:
            result = None

            def do_import() -> None:
                nonlocal result
                # as `kypho db import` does: this process uses the store from one thread
                result = store.import_frame(data, reason="benchmark", exclusive=True)

            imports.append(timed(do_import))
            if result is None or result.n_imported != len(data):
                raise SystemExit(f"benchmark data did not import whole: {result}")
            exports.append(timed(lambda: store.export(reason="benchmark")))
            if not store.verify().ok:
                raise SystemExit("the store does not verify after the benchmark")
    n = len(data)
    return {
        "import_rows_s": n / statistics.median(imports),
        "export_rows_s": n / statistics.median(exports),
        "import_s": statistics.median(imports),
        "export_s": statistics.median(exports),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--stages", action="store_true", help="time one import stage by stage")
    args = parser.parse_args()
    schema = load_schema()
    start = time.perf_counter()
    data = generate(args.n, schema)
    print(
        f"generated {args.n} patients x {data.shape[1]} columns in "
        f"{time.perf_counter() - start:.1f} s; {args.runs} runs per engine, medians"
    )
    from kypho.validate import validate

    checks = [timed(lambda: validate(data, schema)) for _ in range(args.runs)]
    print(
        f"{'validation':<11} alone    {args.n / statistics.median(checks):>9,.0f} rows/s "
        f"({statistics.median(checks):.1f} s; part of every import below)",
        flush=True,
    )
    engines = args.engines.split(",")
    rows = []
    with postgres_url() if "postgresql" in engines else _none() as pg_url:
        for engine in engines:
            if engine == "postgresql" and pg_url is None:
                continue
            figures = bench(engine, pg_url, data, args.runs)
            rows.append({"engine": engine, **figures})
            print(
                f"{engine:<11} import {figures['import_rows_s']:>9,.0f} rows/s "
                f"({figures['import_s']:.1f} s)   export {figures['export_rows_s']:>9,.0f} rows/s "
                f"({figures['export_s']:.1f} s)",
                flush=True,
            )
            if args.stages:
                print(f"  {engine} import by stage (in-process):  wall s   CPU s")
                for label, wall, cpu in stages(engine, pg_url, data):
                    print(f"    {label:<34} {wall:6.2f}  {cpu:6.2f}", flush=True)


#: (module, function, stage label) of the stages ``--stages`` times.
_STAGES = (
    ("kypho.validation", "validate", "validation"),
    ("kypho.store.batch", "records_table", "records as Arrow columns"),
    ("kypho.store.batch", "encode_batch", "batch as Parquet (2nd thread)"),
    ("kypho.store.store", "_insert_columns", "records' bulk insert"),
    ("kypho.store.store", "_bulk_insert", "audit rows"),
)


def stages(engine: str, pg_url: str | None, data: pd.DataFrame) -> list[tuple[str, float, float]]:
    """One import with each stage's (label, wall s, CPU s of its thread); the rest is the commit."""
    import importlib
    import threading

    found: list[tuple[str, float, float]] = []
    lock = threading.Lock()
    saved = []

    def wrap(module: object, name: str, label: str) -> None:
        original = getattr(module, name)
        saved.append((module, name, original))

        def timed_stage(*args: object, **kwargs: object) -> object:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                with lock:
                    found.append((label, time.perf_counter() - wall, time.thread_time() - cpu))

        setattr(module, name, timed_stage)

    for module_name, name, label in _STAGES:
        wrap(importlib.import_module(module_name), name, label)
    # the store module imported these names itself
    import kypho.store.store as store_module

    wrap(store_module, "records_table", "records as Arrow columns")
    wrap(store_module, "encode_batch", "batch as Parquet (2nd thread)")
    # SQLite: the import's transaction on ADBC's connection (kypho.store._sqlite_direct)
    from kypho.store._sqlite_direct import DirectSqlite

    wrap(DirectSqlite, "append_rows", "audit rows")
    wrap(DirectSqlite, "commit", "commit (SQLite)")
    try:
        with fresh_database(engine, pg_url) as url, Store.init(url, admin="bench") as store:
            wall, cpu = time.perf_counter(), time.process_time()
            store.import_frame(data, reason="benchmark", exclusive=True)
            total = (time.perf_counter() - wall, time.process_time() - cpu)
    finally:
        for module, name, original in reversed(saved):
            setattr(module, name, original)
    labels = dict.fromkeys(label for label, _, _ in found)
    rows = [
        (
            label,
            sum(w for k, w, _ in found if k == label),
            sum(c for k, _, c in found if k == label),
        )
        for label in labels
    ]
    return [*rows, ("whole import_frame (process CPU)", *total)]


@contextmanager
def _none() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()
