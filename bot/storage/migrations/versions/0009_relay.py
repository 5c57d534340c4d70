"""relayed conversations between a person and their staff (issue 15)

``relay_conversations``: who talks with whom, open or closed, with the times
that measure responsiveness; ``relay_messages``: the relayed texts (kept as
long as the retention setting says); ``staff_settings``: a staff member's own
quiet hours.

Revision ID: 0009_relay
Revises: 0008_console
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0009_relay"
down_revision = "0008_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay_conversations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.String(32), sa.ForeignKey("people.id"), nullable=False, index=True),
        sa.Column("staff_id", sa.String(32), sa.ForeignKey("people.id"), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("safety", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("opened_by", sa.String(16), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("joined_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_reply_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(16), nullable=True),
    )
    op.create_table(
        "relay_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(160), nullable=False, unique=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("relay_conversations.id"), nullable=False,
                  index=True),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "staff_settings",
        sa.Column("person_id", sa.String(32), sa.ForeignKey("people.id"), primary_key=True),
        sa.Column("quiet_from", sa.Integer(), nullable=False, server_default="21"),
        sa.Column("quiet_until", sa.Integer(), nullable=False, server_default="7"),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_settings")
    op.drop_table("relay_messages")
    op.drop_table("relay_conversations")
