"""Alembic migrations of the study store's tables (run by :class:`kypho.store.Store`)."""
