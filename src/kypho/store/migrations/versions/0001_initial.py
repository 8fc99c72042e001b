"""The store's tables, the record table derived from the study schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

from kypho.store.tables import build_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the record columns come from the schema the store is created with; later
    # schema versions add columns through kypho.store.migrate.sync_columns
    config = op.get_context().config
    if config is None:
        raise RuntimeError("kypho's store migrations run only through kypho.store.migrate")
    schema = config.attributes["schema"]
    tables = build_tables(schema)
    tables.metadata.create_all(op.get_bind())


def downgrade() -> None:
    for name in (
        "kypho_schema_versions",
        "kypho_users",
        "kypho_chain",
        "kypho_audit",
        "kypho_records",
    ):
        op.drop_table(name)
