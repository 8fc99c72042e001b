"""Alembic environment: runs on the connection kypho hands over.

kypho calls Alembic programmatically (:func:`kypho.store.migrate.upgrade`) and
passes its open connection and the study schema in ``config.attributes``, so a
migration runs inside kypho's own transaction.
"""

from __future__ import annotations

from alembic import context

from kypho.store.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
