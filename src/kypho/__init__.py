"""kypho: clinical studies of kyphoplasty, from patient records to the published tables."""

from __future__ import annotations

from kypho.errors import KyphoError

__version__ = "0.1.0"

__all__ = ["KyphoError", "__version__"]
