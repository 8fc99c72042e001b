"""The radiograph tables: stored films and the reads made on them.

See :mod:`kypho.store.images`. They do not depend on the study schema.

Revision ID: r001
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from kypho.store.images import METADATA

revision = "r001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    METADATA.create_all(op.get_bind())


def downgrade() -> None:
    METADATA.drop_all(op.get_bind())
