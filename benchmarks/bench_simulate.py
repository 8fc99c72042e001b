"""Benchmark: the cement-perfusion model — one protocol by grid size, and a Sobol' analysis.

Run by hand: ``.venv/bin/python benchmarks/bench_simulate.py [--repeat 3] [--sobol-n 64]
[--sizes 50,100,200] [--protocols traditional,staged] [--baseline-sizes 50,100]
[--skip-sobol] [--skip-grids] [--skip-process] [--jit]``. CI never runs this file.
Each grid size is best run as its own locked run (``--sizes 200 --protocols staged``
and so on), so that no locked run lasts more than a few minutes.

A long Sobol' analysis runs in pieces, each its own process under the benchmark lock
(so that no locked run lasts more than a few minutes), then is analysed as one::

    for k in 0 1 2 3; do flock /work/bench.lock .venv/bin/python benchmarks/bench_simulate.py \
        --sobol-n 64 --sobol-nx 20 --sobol-part $k/4 --sobol-dir sobol64; done
    .venv/bin/python benchmarks/bench_simulate.py --sobol-n 64 --sobol-nx 20 --sobol-combine --sobol-dir sobol64

Each piece prints its wall and CPU time (in-process: the piece's points only); the
combined step prints the indices, the band and the summed times.

Prints, for the traditional and the staged protocol on n × n grids (in-process,
labelled as such; median of ``--repeat`` runs): wall and CPU time, steps,
pressure solves, CG iterations per solve, leaked volume per exit (the
mesh-convergence table of docs/simulate.md); the same with the previous
preconditioner, MIC(0), on the ``--baseline-sizes`` grids, and the ratio of the
two (the baseline of this session; the leaked volumes must agree); the growth
exponent of the CPU cost with the number of cells (slope of log time on log N
between successive sizes); the whole ``kypho simulate compare --nx 200`` command
(``--process-nx``) as a process (median of ``--repeat``, wall and children's CPU);
with ``--jit``, a first run in a fresh process with an empty numba cache (the
kernels compiled) against one with the cache filled; and the sensitivity analysis with
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
import tempfile
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
    print("in-process: simulate() per protocol on n × n cells (JIT compile excluded: warmed first)")
    simulate(traditional_protocol(v), v, nx=12)
    simulate(traditional_protocol(v), v, nx=12, preconditioner="mic0")
    print(
        f"{'grid':>9} {'protocol':<12} {'solver':<9} {'wall s':>7} {'CPU s':>7} {'steps':>6} "
        f"{'solves':>7} {'CG it/solve':>11} {'breach ml':>10} {'vein ml':>8} {'leaked ml':>10} "
        f"{'balance':>8} {'CPU ratio':>9}"
    )
    protocols = [
        p for p in (traditional_protocol(v), staged_protocol(v)) if p.name in args.protocols
    ]
    baseline = {int(s) for s in args.baseline_sizes.split(",") if s}
    cpus: dict[str, list[float]] = {p.name: [] for p in protocols}
    for n in sizes:
        for protocol in protocols:
            cpu_of: dict[str, float] = {}
            for solver in ("multigrid", "mic0") if n in baseline else ("multigrid",):
                walls, cpu = [], []
                for _ in range(args.repeat):
                    t0, c0 = time.perf_counter(), time.process_time()
                    r = simulate(
                        protocol,
                        v,
                        nx=n,
                        ny=n,
                        courant=args.courant,
                        pressure_every=args.pressure_every,
                        preconditioner=solver,
                    )
                    walls.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                cpu_of[solver] = statistics.median(cpu)
                if solver == "multigrid":
                    cpus[protocol.name].append(cpu_of[solver])
                by_exit = r.leaked_by_exit()
                ratio = cpu_of[solver] / cpu_of["multigrid"]
                print(
                    f"{n:>4}×{n:<4} {protocol.name:<12} {solver:<9} "
                    f"{statistics.median(walls):>7.2f} {cpu_of[solver]:>7.2f} {r.steps:>6} "
                    f"{r.pressure_solves:>7} {r.cg_iterations / r.pressure_solves:>11.1f} "
                    f"{by_exit['breach']:>10.6f} {by_exit['basivertebral vein']:>8.4f} "
                    f"{r.leaked_total_ml:>10.6f} {float(r.balance_error.max()):>8.0e} "
                    f"{ratio:>9.2f}",
                    flush=True,
                )
        print(f"  ({_load()})", flush=True)
    for name, ts in cpus.items():
        if len(ts) < 2:
            continue
        slopes = [
            math.log(ts[k] / ts[k - 1]) / math.log((sizes[k] / sizes[k - 1]) ** 2)
            for k in range(1, len(sizes))
        ]
        print(
            f"CPU cost growth ({name}): time ∝ N^p with p = "
            + ", ".join(f"{p:.2f}" for p in slopes)
        )
    print(_load())


_FIRST_RUN = (
    "import time; t = time.perf_counter(); "
    "from kypho.simulate import Vertebra, simulate, traditional_protocol; "
    "v = Vertebra(); simulate(traditional_protocol(v), v, nx=20); "
    "print(time.perf_counter() - t)"
)


def _jit_cost() -> None:
    """Import and a first small run in a fresh process: empty numba cache, then a filled one."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("empty numba cache (compiles)", "filled numba cache"):
            c0 = _children_cpu()
            out = subprocess.run(
                [sys.executable, "-c", _FIRST_RUN],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            print(
                f"fresh process, import + simulate(nx=20), {label}: "
                f"{float(out.stdout):.2f} s wall in the process, "
                f"{_children_cpu() - c0:.2f} s CPU ({_load()})"
            )


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
    parser.add_argument("--sizes", default="50,100,200")
    parser.add_argument("--protocols", default="traditional,staged")
    parser.add_argument("--baseline-sizes", default="50,100")
    parser.add_argument("--jit", action="store_true")
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
    if args.jit:
        _jit_cost()
    if not args.skip_process:
        walls, cpus = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), _children_cpu()
            subprocess.run(
                [KYPHO, "simulate", "compare", "--nx", str(args.process_nx)],
                check=True,
                capture_output=True,
            )
            walls.append(time.perf_counter() - t0)
            cpus.append(_children_cpu() - c0)
        print(
            f"whole process `kypho simulate compare --nx {args.process_nx}` (two protocols; "
            f"median of {args.repeat}): {statistics.median(walls):.1f} s wall, "
            f"{statistics.median(cpus):.1f} s CPU ({_load()})"
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
