"""legal status: supervision follows the person's legal status (issue 13)

A supervisee carries the kind of community sentence being served and its end
date, or "completed" (no legal duty to report), or "unconfirmed". Existing
supervisees become "unconfirmed": an officer must confirm their status (the
admin listing shows who still needs it); until then the ladder behaves as
before.

Revision ID: 0007_legal_status
Revises: 0006_web_identity
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_legal_status"
down_revision = "0006_web_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite supports it): a batch rebuild of ``people`` would
    # trip over the foreign keys of existing rows.
    op.add_column("people", sa.Column("legal_status", sa.String(length=24), nullable=True))
    op.add_column("people", sa.Column("legal_duty_until", sa.Date(), nullable=True))
    op.execute("UPDATE people SET legal_status = 'unconfirmed' WHERE role = 'supervisee'")


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("legal_duty_until")
        batch_op.drop_column("legal_status")
