"""Benchmark of the report's "Mechanism" section, each run timed as a whole ``kypho`` process.

Run by hand (under the shared machine's benchmark lock)::

    flock /work/bench.lock .venv/bin/python benchmarks/bench_mechanism.py --repeat 3

Three cases of ``kypho analyze --out DIR`` on the bundled cohort (all formats and
figures, what ``make run`` does), interleaved run by run:

``default``            no Mechanism section (the baseline);
``mechanism cached``   ``--mechanism``, the section already in kypho's cache;
``mechanism computed`` ``--mechanism``, its cache entry removed before each run, so
                       both protocols are simulated and Figure S1 drawn (numba's
                       compiled kernels stay cached on disk, as after a first run).

All three share one cache folder, filled by a first run of each that is not timed,
so the report's own figures, Beyond section and analysis come from the cache in every
case. For each case it prints the median wall and CPU time (user + system of the
process and the workers it waited for, from ``os.wait4``) and the ratio to the
default's median. Nothing here is asserted by a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {
    "default": [],
    "mechanism cached": ["--mechanism"],
    "mechanism computed": ["--mechanism"],
}


def _run(args: list[str], env: dict[str, str], out: Path) -> tuple[float, float]:
    if out.exists():
        shutil.rmtree(out)
    command = [sys.executable, "-m", "kypho", "analyze", "--out", str(out), "-q", *args]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed (status {status})")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kypho-bench-mechanism-"))
    env = {**os.environ, "KYPHO_CACHE_DIR": str(root / "cache"), "KYPHO_PROGRESS": "0"}
    out = root / "report"
    try:
        for args in CASES.values():
            _run(args, env, out)  # fills the cache
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
        for _ in range(options.repeat):
            for name, args in CASES.items():
                if name == "mechanism computed":
                    for entry in (root / "cache").glob("mechanism-*"):
                        shutil.rmtree(entry)
                times[name].append(_run(args, env, out))
        load = os.getloadavg()
        print(
            f"kypho analyze (bundled cohort, all formats and figures), median of {options.repeat}; "
            f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs"
        )
        base_wall = statistics.median(w for w, _ in times["default"])
        base_cpu = statistics.median(c for _, c in times["default"])
        for name, runs in times.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(
                f"  {name:<20} wall {wall:6.2f} s ({wall / base_wall:4.2f}×)   "
                f"CPU {cpu:6.2f} s ({cpu / base_cpu:4.2f}×)"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
