"""on-duty staff and the person's words on an alert

``people.on_duty``: staff who take crisis handovers from people who are not
enrolled (set with ``admin on-duty``); existing people are not on duty.
``alerts.note``: the person's own words that raised the alert (a crisis
message, a check-in note), shown to their mentor and officers; existing alerts
have none.

Revision ID: 0005_on_duty_staff
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0005_on_duty_staff"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite supports: a batch operation would copy and
    # drop ``people``, which the foreign keys of existing rows forbid.
    op.add_column("people", sa.Column("on_duty", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("alerts", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("on_duty")
