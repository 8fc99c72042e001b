"""What the data is: the declared study schema and its derived artefacts."""

from __future__ import annotations

from kypho.schema.model import (
    Criterion,
    Derivation,
    Rule,
    Schema,
    Timepoint,
    Variable,
    load_schema,
)

__all__ = ["Criterion", "Derivation", "Rule", "Schema", "Timepoint", "Variable", "load_schema"]
