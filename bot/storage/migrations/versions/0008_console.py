"""console: sign-ins, sessions and admin passwords of the staff console (issue 16)

Revision ID: 0008_console
Revises: 0007_legal_status
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0008_console"
down_revision = "0007_legal_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_signins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.String(length=32), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("pending_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_staff_signins_person_id", "staff_signins", ["person_id"])
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("person_id", sa.String(length=32), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_staff_sessions_person_id", "staff_sessions", ["person_id"])
    op.create_table(
        "staff_passwords",
        sa.Column("person_id", sa.String(length=32), sa.ForeignKey("people.id"), primary_key=True),
        sa.Column("hash", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_passwords")
    op.drop_index("ix_staff_sessions_person_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_index("ix_staff_signins_person_id", table_name="staff_signins")
    op.drop_table("staff_signins")
