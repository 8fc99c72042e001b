"""The audit trail's values stored uncompressed on PostgreSQL (issue 17).

An import's ``create_batch`` entry (:mod:`kypho.store.batch`) is one value of
~13 MB at 10⁵ records: base64 text of an already compressed Parquet file.
PostgreSQL's default storage of ``text`` tries to compress every value over
~2 kB with pglz before moving it out of line; on such text that attempt is
wasted, and at 10⁵ records it took the server ~1.0 s of the import against
~0.4 s to store it as it is (measured 2026-12-01, load 4). ``EXTERNAL`` keeps
large values out of line without compressing them. Existing values are not
rewritten; the small values of other entries are stored as before. SQLite
has no such setting: nothing to do there.

Revision ID: d001
Revises: w002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "d001"
down_revision = "w002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE kypho_audit ALTER COLUMN new_value SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE kypho_audit ALTER COLUMN new_value SET STORAGE EXTENDED")
