"""The web application's sessions and failed-login counts, in the store.

See :mod:`kypho.store.sessions`: kept here rather than in a server process's
memory, several server processes share them and a restart does not reset the
failed-login throttle. They do not depend on the study schema.

Revision ID: w002
Revises: w001
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from kypho.store.sessions import METADATA

revision = "w002"
down_revision = "w001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    METADATA.create_all(op.get_bind())


def downgrade() -> None:
    METADATA.drop_all(op.get_bind())
