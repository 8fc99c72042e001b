"""Make the audit trail append-only in the database itself.

Triggers refuse UPDATE and DELETE on ``kypho_audit``, so even a program that
bypasses kypho cannot change an entry without first dropping the trigger; the
hash chain still catches one that does.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_MESSAGE = "the audit trail is append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION kypho_audit_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        for event in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER kypho_audit_no_{event} BEFORE {event.upper()} ON kypho_audit "
                "FOR EACH ROW EXECUTE FUNCTION kypho_audit_append_only()"
            )
    else:
        for event in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER kypho_audit_no_{event} BEFORE {event.upper()} ON kypho_audit "
                f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )


def downgrade() -> None:
    for event in ("update", "delete"):
        op.execute(
            f"DROP TRIGGER kypho_audit_no_{event}"
            + (" ON kypho_audit" if op.get_bind().dialect.name == "postgresql" else "")
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION kypho_audit_append_only()")
