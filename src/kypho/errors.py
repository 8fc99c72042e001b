"""kypho's exceptions.

Every error kypho raises on purpose derives from :class:`KyphoError` and from
the matching built-in exception, so callers may catch either::

    KyphoError
    ├── SchemaError (ValueError)          the study schema itself is malformed
    ├── DataError (ValueError)            input data break the schema
    │   ├── ValidationError               one or more records failed validation
    │   ├── ColumnError                   a required column is missing / unknown
    │   └── LandmarkError                 radiograph landmarks or outlines are geometrically impossible
    ├── InputFileError (OSError)          a file cannot be read or written
    ├── StatisticsError (ValueError)      degenerate input to a statistical test
    ├── AnalysisError (ValueError)        an analysis declaration is wrong
    ├── AuditError (ValueError)           a summary-table file is malformed
    ├── SimulationError (ValueError)      a cement-perfusion model input is impossible
    └── StoreError (RuntimeError)         the study store refused an operation
        ├── ConflictError                 concurrent edit of one record
        ├── LockedError                   the record is locked
        ├── PermissionDenied              the user's role lacks the right
        └── IntegrityError                the audit trail does not verify

Warnings derive from :class:`KyphoWarning` (a ``UserWarning``)::

    KyphoWarning
    └── StatisticsWarning                 a test ran on a substitute the data called for

Only the command-line interface catches ``KyphoError``: it prints the message
and exits with a non-zero status.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "AuditError",
    "ColumnError",
    "ConflictError",
    "DataError",
    "InputFileError",
    "IntegrityError",
    "KyphoError",
    "KyphoWarning",
    "LandmarkError",
    "LockedError",
    "PermissionDenied",
    "SchemaError",
    "SimulationError",
    "StatisticsError",
    "StatisticsWarning",
    "StoreError",
    "ValidationError",
]


class KyphoError(Exception):
    """Base class of every error kypho raises on purpose."""


class SchemaError(KyphoError, ValueError):
    """The study schema (or a user's extension of it) is malformed."""


class DataError(KyphoError, ValueError):
    """Input data do not fit the study schema."""


class ValidationError(DataError):
    """One or more records failed validation; ``problems`` lists them all."""

    def __init__(self, message: str, problems: object = None) -> None:
        super().__init__(message)
        self.problems = problems


class ColumnError(DataError):
    """A required column is missing, or a column is not in the schema."""


class LandmarkError(DataError):
    """Landmarks or outlines placed on a radiograph cannot be measured (points out
    of order, a zero height, crossed endplates, a self-crossing outline)."""


class InputFileError(KyphoError, OSError):
    """A file cannot be read or written in the requested format."""


class StatisticsError(KyphoError, ValueError):
    """A statistical routine got input it cannot give a defined answer for."""


class AnalysisError(KyphoError, ValueError):
    """An analysis declaration refers to unknown variables or is inconsistent."""


class AuditError(KyphoError, ValueError):
    """A published-summary (audit) file is malformed."""


class SimulationError(KyphoError, ValueError):
    """A vertebra, cement or injection protocol given to ``kypho.simulate`` is impossible."""


class StoreError(KyphoError, RuntimeError):
    """The study store refused an operation."""


class ConflictError(StoreError):
    """A record was changed by someone else since it was read."""


class LockedError(StoreError):
    """The record is locked and refuses edits."""


class PermissionDenied(StoreError):
    """The user's role does not grant the right the operation needs."""


class IntegrityError(StoreError):
    """The audit trail's hash chain does not verify."""


class KyphoWarning(UserWarning):
    """Base class of kypho's warnings."""


class StatisticsWarning(KyphoWarning):
    """A test ran, but on a substitute the data called for (e.g. an exact test
    instead of χ² on a sparse table)."""
