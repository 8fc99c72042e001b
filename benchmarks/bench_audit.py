"""Benchmark: ``kypho audit`` on a paper's own file, as a user runs it (whole process).

1. A 30-page paper (text, one page per form feed; 10 summary tables and 150 results in
   the running text), ``kypho audit paper.txt --json``; the same paper as a PDF.
2. A folder of 1,000 papers of in-text results (8 each, statcheck's kind of input),
   ``kypho audit folder/``: papers per second, and the same excluding process start-up
   (the folder command on one paper, run in the same session, is the baseline).
3. In-process micro-benchmark (labelled as such): ``check_inline`` on 10⁵ results.

Every figure is the median of several runs; ratios are against baselines run in the
same session. Run by hand: ``.venv/bin/python benchmarks/bench_audit.py``.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KYPHO = [str(Path(sys.executable).with_name("kypho"))]

TABLE = """Table {n}
Outcome {n} in two groups
  A group  B group  t  P
Number 40 40
Score before(points) {a}±1.2 6.0±1.3 0.310 0.758
Score after(points) 2.5±1.1* 3.4±1.3* 2.896 0.005
t = 3.10, P < 0.01
t = 2.20, P < 0.05
Time(min) 32±4.46 29±5.17 0.782 0.528
Infection 2 8 0.038
Values are mean ± SD
*Statistically significant
"""

PROSE = (
    "The effect was clear (t({df}) = {t:.2f}, p = {p}), and the interaction was not, "
    "F(1, {df}) = {f:.2f}, p = .{q:02d}; the association, χ2(1, N = {n}) = {c:.2f}, p < .05."
)


def _paper(pages: int, tables: int, per_page: int) -> str:
    out = []
    for page in range(pages):
        lines = [f"Page {page + 1}", ""]
        for k in range(per_page):
            df = 20 + (page * per_page + k) % 80
            lines.append(
                PROSE.format(df=df, t=1.5 + k * 0.3, p=".04", f=2.0 + k, q=10 + k, n=df + 2, c=4.1)
            )
            lines.append("Lorem ipsum dolor sit amet, consectetur adipiscing elit, " * 2)
        if page < tables:
            lines.append("")
            lines.append(TABLE.format(n=page + 1, a=f"{6.0 + page / 10:.1f}"))
        out.append("\n".join(lines))
    return "\f".join(out)


def _time(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median wall-clock and median CPU (user + sys of the process) seconds of ``runs`` runs."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def _fmt(t: tuple[float, float]) -> str:
    return f"{t[0]:7.2f} s (CPU {t[1]:.2f} s)"


def _pdf(text: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        for page in text.split("\f"):
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(page.splitlines()):
                fig.text(0.03, 0.98 - i * 0.014, line, fontsize=5, family="DejaVu Sans")
            pdf.savefig(fig)
            plt.close(fig)


def main() -> None:
    runs = 5
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        big = d / "paper30.txt"
        big.write_text(_paper(30, 10, 5), encoding="utf-8")
        small = d / "paper1.txt"
        small.write_text(_paper(1, 1, 1), encoding="utf-8")
        _pdf(big.read_text(encoding="utf-8"), d / "paper30.pdf")
        load_before = os.getloadavg()[0]
        start = _time([*KYPHO, "--version"], runs)
        one = _time([*KYPHO, "audit", str(small), "--json", "--out", str(d / "o.json")], runs)
        t30 = _time([*KYPHO, "audit", str(big), "--json", "--out", str(d / "o.json")], runs)
        p30 = _time(
            [*KYPHO, "audit", str(d / "paper30.pdf"), "--json", "--out", str(d / "o.json")], runs
        )
        print(
            f"whole process, median of {runs} runs; 1-minute load average before the runs "
            f"{load_before:.1f}, after the PDF runs {os.getloadavg()[0]:.1f}"
        )
        print(f"  kypho --version (start-up baseline)      {_fmt(start)}")
        print(f"  kypho audit 1-page paper (baseline)       {_fmt(one)}")
        print(
            f"  kypho audit 30-page paper, .txt           {_fmt(t30)}  "
            f"({t30[0] / one[0]:.2f}× the 1-page paper)"
        )
        print(f"  kypho audit 30-page paper, .pdf           {_fmt(p30)}  ({p30[0] / one[0]:.2f}×)")

        folder = d / "folder"
        folder.mkdir()
        for i in range(1000):
            (folder / f"p{i:04d}.txt").write_text(_paper(1, 0, 3), encoding="utf-8")
        solo = d / "solo"
        solo.mkdir()
        (solo / "p.txt").write_text(_paper(1, 0, 3), encoding="utf-8")
        t1 = _time([*KYPHO, "audit", str(solo), "--out", str(d / "s.txt")], 3)
        t1000 = _time([*KYPHO, "audit", str(folder), "--out", str(d / "f.txt")], 3)
        print(f"  kypho audit folder of 1 paper (baseline)  {_fmt(t1)}")
        print(
            f"  kypho audit folder of 1,000 papers        {_fmt(t1000)}  "
            f"= {1000 / t1000[0]:.0f} papers/s; "
            f"{999 / max(t1000[0] - t1[0], 1e-9):.0f} papers/s beyond start-up"
        )
        print(f"  load average at the end {os.getloadavg()[0]:.1f}")

    from kypho.audit.inline import check_inline, find_inline

    results = find_inline(_paper(1, 0, 3)) * 11_112
    t0 = time.perf_counter()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        check_inline(results)
        times.append(time.perf_counter() - t0)
    print(
        f"in-process micro-benchmark (not the product's speed): check_inline on "
        f"{len(results):,} results: {statistics.median(times):.2f} s"
    )


if __name__ == "__main__":
    main()
