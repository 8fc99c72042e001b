"""Benchmark: the cement-perfusion model — one protocol by grid size, and a Sobol' analysis.

Run by hand: ``.venv/bin/python benchmarks/bench_simulate.py [--repeat 3] [--sobol-n 64]
[--sizes 25,50,100,200] [--skip-sobol] [--skip-grids] [--skip-process]``. CI never runs this file.

A long Sobol' analysis runs in pieces, each its own process under the benchmark lock
(so that no locked run lasts more than a few minutes), then is analysed as one::

    for k in 0 1 2 3; do flock /work/bench.lock .venv/bin/python benchmarks/bench_simulate.py \
        --sobol-n 64 --sobol-nx 20 --sobol-part $k/4 --sobol-dir sobol64; done
    .venv/bin/python benchmarks/bench_simulate.py --sobol-n 64 --sobol-nx 20 --sobol-combine --sobol-dir sobol64

Each piece prints its wall and CPU time (in-process: the piece's points only); the
combined step prints the indices, the band and the summed times.

Prints, for the traditional and the staged protocol on n × n grids (in-process,
labelled as such; median of ``--repeat`` runs, one at 200): wall and CPU time,
steps, pressure solves, CG iterations per solve, leaked volume per exit (the
mesh-convergence table of docs/simulate.md); the growth exponent of the CPU
cost with the number of cells (slope of log time on log N between successive
sizes); the whole ``kypho simulate compare --nx 200`` command (``--process-nx``) as a process
(one run, wall and children's CPU); and the sensitivity analysis with
``--sobol-n`` base rows (2 N (d + 2) simulations) on a ``--sobol-nx`` grid, as
a whole process (wall and CPU).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _grids(args: argparse.Namespace, sizes: list[int], v: Vertebra) -> None:
    print("in-process: simulate() per protocol on n × n cells")
    print(
        f"{'grid':>9} {'protocol':<12} {'wall s':>7} {'CPU s':>7} {'steps':>6} {'solves':>7} "
        f"{'CG it/solve':>11} {'breach ml':>10} {'vein ml':>8} {'leaked ml':>10} {'balance':>8}"
    )
    cpus: dict[str, list[float]] = {"traditional": [], "staged": []}
    for n in sizes:
        for protocol in (traditional_protocol(v), staged_protocol(v)):
            walls, cpu = [], []
            for _ in range(args.repeat if n <= 100 else 1):
                t0, c0 = time.perf_counter(), time.process_time()
                r = simulate(
                    protocol,
                    v,
                    nx=n,
                    ny=n,
                    courant=args.courant,
                    pressure_every=args.pressure_every,
                )
                walls.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            cpus[protocol.name].append(statistics.median(cpu))
            by_exit = r.leaked_by_exit()
            print(
                f"{n:>4}×{n:<4} {protocol.name:<12} {statistics.median(walls):>7.2f} "
                f"{statistics.median(cpu):>7.2f} {r.steps:>6} {r.pressure_solves:>7} "
                f"{r.cg_iterations / r.pressure_solves:>11.0f} {by_exit['breach']:>10.4f} "
                f"{by_exit['basivertebral vein']:>8.4f} {r.leaked_total_ml:>10.4f} "
                f"{float(r.balance_error.max()):>8.0e}",
                flush=True,
            )
    for name, ts in cpus.items():
        slopes = [
            math.log(ts[k] / ts[k - 1]) / math.log((sizes[k] / sizes[k - 1]) ** 2)
            for k in range(1, len(sizes))
        ]
        print(
            f"CPU cost growth ({name}): time ∝ N^p with p = "
            + ", ".join(f"{p:.2f}" for p in slopes)
        )
    print(_load())


def _sobol_pieces(args: argparse.Namespace) -> None:
    import numpy as np

    from kypho.simulate.sensitivity import PARAMETERS, analyse, evaluate, sample_points

    points = sample_points(args.sobol_n)
    tag = f"n{args.sobol_n}-nx{args.sobol_nx}-c{args.sobol_courant:g}"
    if args.sobol_part:
        k, m = (int(x) for x in args.sobol_part.split("/"))
        chunk = np.array_split(np.arange(points.shape[0]), m)[k]
        t0, c0 = time.perf_counter(), time.process_time()
        trad, staged = evaluate(points[chunk], nx=args.sobol_nx, courant=args.sobol_courant)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        args.sobol_dir.mkdir(parents=True, exist_ok=True)
        np.savez(
            args.sobol_dir / f"{tag}-part{k}of{m}.npz",
            index=chunk,
            trad=trad,
            staged=staged,
            wall=wall,
            cpu=cpu,
        )
        print(
            f"Sobol' piece {k}/{m} ({tag}): {chunk.size} points = {2 * chunk.size} simulations, "
            f"in-process {wall:.1f} s wall, {cpu:.1f} s CPU, {cpu / (2 * chunk.size):.3f} s CPU "
            f"per simulation ({_load()})"
        )
        return
    trad = np.full(points.shape[0], np.nan)
    staged = np.full(points.shape[0], np.nan)
    wall = cpu = 0.0
    pieces = sorted(args.sobol_dir.glob(f"{tag}-part*.npz"))
    for f in pieces:
        with np.load(f) as z:
            trad[z["index"]] = z["trad"]
            staged[z["index"]] = z["staged"]
            wall += float(z["wall"])
            cpu += float(z["cpu"])
    missing = int(np.isnan(trad).sum())
    if missing:
        raise SystemExit(f"{missing} of {points.shape[0]} points have no piece in {args.sobol_dir}")
    r = analyse(trad, staged, args.sobol_n)
    mid, lo, hi = r.band()
    print(
        f"Sobol' analysis {tag}: {r.runs} simulations in {len(pieces)} pieces, in-process "
        f"{wall:.1f} s wall, {cpu:.1f} s CPU in all"
    )
    print(
        f"reduction (traditional − staged), median {mid:+.4f} ml, 90 % band {lo:+.4f} to "
        f"{hi:+.4f} ml; staging leaks less in {100 * r.probability_staged_better():.0f} % of "
        f"the sample; leak traditional median {float(np.median(r.traditional_ml)):.4f}, "
        f"staged {float(np.median(r.staged_ml)):.4f} ml"
    )
    frame = r.to_frame()
    print(f"{'input':<46} {'S1':>6} {'95% CI':>15} {'ST':>6} {'95% CI':>15}")
    for row, p in zip(frame.itertuples(), PARAMETERS, strict=True):
        print(
            f"{p.label:<46} {row.first_order:>6.2f} [{row.first_low:>5.2f}, {row.first_high:>5.2f}] "
            f"{row.total:>6.2f} [{row.total_low:>5.2f}, {row.total_high:>5.2f}]"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="25,50,100,200")
    parser.add_argument("--courant", type=float, default=0.125)
    parser.add_argument("--pressure-every", type=int, default=8)
    parser.add_argument("--sobol-n", type=int, default=64)
    parser.add_argument("--sobol-nx", type=int, default=20)
    parser.add_argument("--sobol-courant", type=float, default=0.125)
    parser.add_argument("--skip-sobol", action="store_true")
    parser.add_argument("--skip-grids", action="store_true")
    parser.add_argument("--skip-process", action="store_true")
    parser.add_argument("--process-nx", type=int, default=200)
    parser.add_argument("--sobol-part", help="K/M: run the K-th of M pieces of the Sobol' points")
    parser.add_argument("--sobol-combine", action="store_true", help="analyse the saved pieces")
    parser.add_argument("--sobol-dir", type=Path, default=Path("sobol-pieces"))
    args = parser.parse_args()
    if args.sobol_part or args.sobol_combine:
        _sobol_pieces(args)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    v = Vertebra()
    print(f"cement-perfusion benchmark ({_load()}; {os.cpu_count()} CPUs)")
    if not args.skip_grids:
        _grids(args, sizes, v)
    if not args.skip_process:
        t0, c0 = time.perf_counter(), _children_cpu()
        subprocess.run(
            [KYPHO, "simulate", "compare", "--nx", str(args.process_nx)],
            check=True,
            capture_output=True,
        )
        print(
            f"whole process `kypho simulate compare --nx {args.process_nx}` (two protocols): "
            f"{time.perf_counter() - t0:.1f} s wall, {_children_cpu() - c0:.1f} s CPU ({_load()})"
        )
    if args.skip_sobol:
        return
    t0, c0 = time.perf_counter(), _children_cpu()
    out = subprocess.run(
        [
            KYPHO,
            "simulate",
            "sensitivity",
            "--n",
            str(args.sobol_n),
            "--nx",
            str(args.sobol_nx),
            "--courant",
            str(args.sobol_courant),
            "--quiet",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    elapsed, cpu = time.perf_counter() - t0, _children_cpu() - c0
    print(out.stdout)
    print(
        f"whole process `kypho simulate sensitivity --n {args.sobol_n} --nx {args.sobol_nx}`: "
        f"{elapsed:.1f} s wall, {cpu:.1f} s CPU ({_load()})"
    )


if __name__ == "__main__":
    main()
