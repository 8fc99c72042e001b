"""Synthetic individual-patient data consistent with a paper's published tables.

:func:`synthesize` generates a cohort in the schema's input columns whose group
summaries reproduce the published means, SDs and counts, and reports what it
cannot reproduce. The bundled ``kypho/data/cohort.csv`` was made with it
(``python -m kypho.synth``); it is synthetic, not patient data.
"""

from __future__ import annotations

from kypho.synth.cohort import Synthesis, bundled_seed, synthesize
from kypho.synth.report import ReportEntry, SynthReport
from kypho.synth.spec import SynthSpec, load_synth_spec
from kypho.synth.targets import Binding

__all__ = [
    "Binding",
    "ReportEntry",
    "SynthReport",
    "SynthSpec",
    "Synthesis",
    "bundled_seed",
    "load_synth_spec",
    "synthesize",
]
