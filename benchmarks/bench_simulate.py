"""Benchmark: the cement-perfusion model — one protocol by grid size, and a Sobol' analysis.

Run by hand: ``.venv/bin/python benchmarks/bench_simulate.py [--repeat 3] [--sobol-n 64]
[--sizes 25,50,100,200] [--skip-sobol]``. CI never runs this file.

Prints, for the traditional and the staged protocol on n × n grids (in-process,
median of ``--repeat`` runs): wall time, steps, pressure factorisations, leaked
volume (the mesh-convergence table of docs/simulate.md) and the cement counted
through the cortex; the growth exponent of the cost with the number of cells
(slope of log time on log N between successive sizes); the whole
``kypho simulate compare --nx 200`` command as a process (one run); and the
sensitivity analysis with ``--sobol-n`` base rows (2 N (d + 2) simulations) on a
``--sobol-nx`` grid, as a whole process.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from kypho.simulate import Vertebra, simulate, staged_protocol, traditional_protocol

KYPHO = str(Path(sys.executable).with_name("kypho"))


def _load() -> str:
    try:
        return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    except OSError:  # pragma: no cover - not on this platform
        return "load average unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="25,50,100,200")
    parser.add_argument("--steps-per-ml", type=float, default=10.0)
    parser.add_argument("--sobol-n", type=int, default=64)
    parser.add_argument("--sobol-nx", type=int, default=20)
    parser.add_argument("--sobol-steps-per-ml", type=float, default=4.0)
    parser.add_argument("--skip-sobol", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    v = Vertebra()
    print(f"cement-perfusion benchmark ({_load()}; {os.cpu_count()} CPUs)")
    print(
        f"{'grid':>9} {'protocol':<12} {'median s':>9} {'steps':>6} {'factor.':>8} {'leaked ml':>10} {'cortex ml':>10}"
    )
    times: dict[str, list[float]] = {"traditional": [], "staged": []}
    for n in sizes:
        for protocol in (traditional_protocol(v), staged_protocol(v)):
            runs = []
            for _ in range(args.repeat if n <= 100 else 1):
                t0 = time.perf_counter()
                r = simulate(protocol, v, nx=n, ny=n, steps_per_ml=args.steps_per_ml)
                runs.append(time.perf_counter() - t0)
            median = statistics.median(runs)
            times[protocol.name].append(median)
            print(
                f"{n:>4}×{n:<4} {protocol.name:<12} {median:>9.2f} {r.steps:>6} {r.factorizations:>8} "
                f"{r.leaked_total_ml:>10.4f} {r.cortex_ml:>10.4f}"
            )
    for name, ts in times.items():
        slopes = [
            math.log(ts[k] / ts[k - 1]) / math.log((sizes[k] / sizes[k - 1]) ** 2)
            for k in range(1, len(sizes))
        ]
        print(f"cost growth ({name}): time ∝ N^p with p = " + ", ".join(f"{p:.2f}" for p in slopes))
    t0 = time.perf_counter()
    subprocess.run(
        [KYPHO, "simulate", "compare", "--nx", "200"],
        check=True,
        capture_output=True,
    )
    print(
        f"whole process `kypho simulate compare --nx 200` (two protocols): {time.perf_counter() - t0:.1f} s ({_load()})"
    )
    if args.skip_sobol:
        return
    t0 = time.perf_counter()
    out = subprocess.run(
        [
            KYPHO,
            "simulate",
            "sensitivity",
            "--n",
            str(args.sobol_n),
            "--nx",
            str(args.sobol_nx),
            "--steps-per-ml",
            str(args.sobol_steps_per_ml),
            "--quiet",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t0
    print(out.stdout)
    print(
        f"whole process `kypho simulate sensitivity --n {args.sobol_n}`: {elapsed:.1f} s ({_load()})"
    )


if __name__ == "__main__":
    main()
