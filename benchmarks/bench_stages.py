"""In-process micro-benchmark: read, validate, derive and screen one data file, stage by stage.

Run by hand, e.g.::

    .venv/bin/python benchmarks/bench_stages.py /tmp/bench-data/cohort_1000000.csv --repeat 3

Each run is a fresh Python process (so that its peak memory belongs to that run
alone) that times the four stages inside itself: the figures leave out Python's
start-up, the imports and everything after screening. For the command a user
runs, timed as a whole process, see ``bench_cli.py`` (its ``analyze`` and
``nohtml`` lines print the same stages from the CLI's stage lines). Prints the
median wall and CPU time (the process's, all its threads) of each stage, the
peak resident memory after each stage, and the machine's load. No test asserts
any of these times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_CHILD = """
import json, resource, sys, time
from kypho.eligibility import screen
from kypho.io import read_table
from kypho.measures import derive
from kypho.schema import load_schema
from kypho.validation import validate

schema = load_schema()
out = []
def lap(name, wall, cpu):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.append([name, time.perf_counter() - wall, time.process_time() - cpu, peak])
    return time.perf_counter(), time.process_time()
t, c = time.perf_counter(), time.process_time()
raw = read_table(sys.argv[1], schema=schema); t, c = lap("read", t, c)
checked = validate(raw, schema); t, c = lap("validate", t, c)
del raw
derived = derive(checked.data, schema); t, c = lap("derive", t, c)
screened = screen(derived, schema); t, c = lap("screen", t, c)
print(json.dumps({"stages": out, "rows": checked.n_read, "columns": derived.shape[1]}))
"""


def main() -> None:
    """Run the stages ``--repeat`` times and print their medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="a .csv, .xlsx, .sav or .parquet data file")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, args.file],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    load = os.getloadavg()
    rows = runs[0]["rows"]
    print(
        f"in-process stages of {args.file} ({rows:,} rows), median of {args.repeat} runs, "
        f"load {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    for i, (name, *_rest) in enumerate(runs[0]["stages"]):
        wall = statistics.median(r["stages"][i][1] for r in runs)
        cpu = statistics.median(r["stages"][i][2] for r in runs)
        peak = statistics.median(r["stages"][i][3] for r in runs)
        print(
            f"  {name:9s} wall {wall:7.2f} s  CPU {cpu:7.2f} s  peak RSS so far {peak:7.0f} MiB"
            f"  ({cpu / rows * 1e6:.2f} µs CPU per row)"
        )


if __name__ == "__main__":
    main()
