"""web identity: cookie-bound web chats, anonymous ones apart, shared rate counters

The web chat's ``user`` string proved nothing, so web identities made before
this revision become anonymous (channel ``web-anon``, questions and answers
only) and are unlinked from any person: a person enrolled through the web chat
enrolls again from the cookie-bound page with a new code (each unlink is in the
audit log), and their unread web-inbox copies are deleted. New tables: hourly
rate counters (enrollment guessing, shared by replicas) and the action payloads
offered to each conversation; identities made only to answer a refused
enrollment guess carry ``transient_until``.

Revision ID: 0006_web_identity
Revises: 0005_on_duty_staff
Create Date: 2026-11-30
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import bot.storage.models
from vietnamese.clock import utcnow

revision = '0006_web_identity'
down_revision = '0005_on_duty_staff'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_counters',
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('window_start', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'window_start')
    )
    op.create_table('offered_payloads',
    sa.Column('identity_id', sa.String(length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('offered_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('identity_id', 'digest')
    )
    with op.batch_alter_table('offered_payloads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offered_payloads_offered_at'), ['offered_at'], unique=False)
    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transient_until', bot.storage.models.UTCDateTime(timezone=True),
                                      nullable=True))

    conn = op.get_bind()
    linked = conn.execute(sa.text(
        "SELECT id, person_id FROM channel_identities WHERE channel = 'web' AND person_id IS NOT NULL")).all()
    for identity_id, person_id in linked:
        conn.execute(sa.text("INSERT INTO audit_log (at, actor, action, subject_id, detail) "
                             "VALUES (:at, 'system', 'unlink_web_chat', :person, :detail)")
                     .bindparams(sa.bindparam("at", type_=bot.storage.models.UTCDateTime())),
                     {"at": utcnow(), "person": person_id,
                      "detail": json.dumps({"identity": identity_id, "reason": "web user string is not proof"})})
    conn.execute(sa.text("DELETE FROM web_inbox WHERE identity_id IN "
                         "(SELECT id FROM channel_identities WHERE channel = 'web')"))
    conn.execute(sa.text("UPDATE channel_identities SET channel = 'web-anon', person_id = NULL "
                         "WHERE channel = 'web'"))


def downgrade() -> None:
    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.drop_column('transient_until')
    with op.batch_alter_table('offered_payloads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offered_payloads_offered_at'))
    op.drop_table('offered_payloads')
    op.drop_table('rate_counters')
