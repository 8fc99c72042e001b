"""The workflow tables of the web application: passwords, statuses, queries, second entries.

See :mod:`kypho.store.workflow`. They do not depend on the study schema.

Revision ID: w001
Revises: r001
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from kypho.store.workflow import METADATA

revision = "w001"
down_revision = "r001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    METADATA.create_all(op.get_bind())


def downgrade() -> None:
    METADATA.drop_all(op.get_bind())
