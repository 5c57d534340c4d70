"""Typed SQLAlchemy 2 models. Schema changes go through Alembic (bot/storage/migrations)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
import uuid

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from vietnamese.clock import utcnow


def new_id() -> str:
    """Opaque random id (128 bits, hex)."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Always timezone-aware UTC, on SQLite (which drops tzinfo) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class ChannelIdentity(Base):
    """One user on one channel (web, telegram, zalo_oa, zalo_bot).

    The platform's user id is personal data: it stays in this table. Everything
    downstream (Rasa trackers, logs) sees only ``id``, an opaque random
    conversation id.
    """

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_channel_identity"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_inbound_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Linked by enrollment; one person may have several channels.
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"), nullable=True, index=True)
    # Set when the platform refuses delivery (blocked, never started); cleared
    # by the next inbound message.
    unreachable_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Zalo OA: free replies are limited per 48 h after the user's last message.
    replies_since_inbound: Mapped[int] = mapped_column(default=0, server_default="0")
    # Zalo Bot has no buttons: the numbered choices last shown, as JSON payloads.
    last_choices: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Created only to answer a refused enrollment guess (a webhook channel needs
    # an address for the reply): deleted after this instant unless the chat
    # talks to the assistant meanwhile (bot.supervision.enrollment).
    transient_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# --- people, places and who may see whom --------------------------------------
#
# Criminal-record data is sensitive personal data: collect the minimum. A person
# is a role, a display name and a commune; nothing about the offence is stored.

ROLES = ("supervisee", "mentor", "officer", "admin")


class Commune(Base):
    __tablename__ = "communes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Community sentences carry a legal duty to report (Luật THAHS: án treo, cải tạo
# không giam giữ, tha tù trước thời hạn có điều kiện, quản chế); "completed" does not.
COMMUNITY_SENTENCES = ("suspended", "non_custodial", "early_release", "probation_supervision")
LEGAL_STATUSES = ("unconfirmed", *COMMUNITY_SENTENCES, "completed")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    role: Mapped[str] = mapped_column(String(16), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the person's data was erased; the row stays so that references
    # (alerts, audit entries) keep pointing somewhere, with no personal data.
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Staff (mentor, officer, admin) who take crisis handovers from people who
    # are not enrolled (``admin on-duty``); nobody by default.
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # A supervisee's legal status (LEGAL_STATUSES): a community sentence being
    # served until ``legal_duty_until``, "completed" (no legal duty: voluntary
    # check-ins with the mentor) or "unconfirmed" (an officer must confirm it).
    # NULL for other roles.
    legal_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    legal_duty_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class MentorAssignment(Base):
    """Who helps whom (TT 10/2024 Điều 10: one helper per person at a time)."""

    __tablename__ = "mentor_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    supervisee_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # How often the mentor is reminded to visit (no legal figure; set per assignment).
    visit_every_days: Mapped[int] = mapped_column(default=30, server_default="30")


class OfficerCommune(Base):
    __tablename__ = "officer_communes"
    __table_args__ = (UniqueConstraint("officer_id", "commune_id", name="uq_officer_commune"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)


class Consent(Base):
    """What a person agreed to, which text version, when and on which channel."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    text_version: Mapped[str] = mapped_column(String(32))
    accepted: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EnrollmentCode(Base):
    """One-time code linking a chat to a person. Only its hash is stored."""

    __tablename__ = "enrollment_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EnrollmentAttempt(Base):
    """Every code typed, to rate-limit guessing per chat identity."""

    __tablename__ = "enrollment_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


# --- check-ins, reminders, alerts ---------------------------------------------

SCHEDULE_KINDS = ("weekly", "monthly", "monthly_window")


class CheckinSchedule(Base):
    """When a supervisee reports: weekly (weekday 0=Monday), monthly (day of
    month), or a window at the start of each month (NĐ 231/2026: first 5 days)."""

    __tablename__ = "checkin_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int | None] = mapped_column(nullable=True)
    day_of_month: Mapped[int | None] = mapped_column(nullable=True)
    window_days: Mapped[int] = mapped_column(default=1)
    grace_hours: Mapped[int] = mapped_column(default=24)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Checkin(Base):
    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Deterministic key (person:window start) so a retried submission is stored once.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    window_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    at_registered_address: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    activity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    wellbeing: Mapped[int | None] = mapped_column(nullable=True)
    needs: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    worrying: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxStatus(StrEnum):
    """Where an outbox row stands (bot.outbox moves it). A StrEnum: stored as its text."""
    PENDING = "pending"        # due at next_attempt_at
    CLAIMED = "claimed"        # leased by a dispatcher
    SENDING = "sending"        # the platform call is under way
    SENT = "sent"
    FAILED = "failed"          # for good
    CANCELLED = "cancelled"    # obsolete before it went
    WAITING = "waiting"        # held until the person writes again


OUTBOX_STATUSES = tuple(OutboxStatus)


class OutboxMessage(Base):
    """Outbox row: the database, not memory, holds every reminder. ``key`` is
    deterministic (kind:person:due-date), so regenerating never duplicates."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # The recipient; NULL for a reply to a conversation (then ``identity_id``
    # is the target and ``body`` the pre-rendered message).
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"), nullable=True, index=True)
    # Whom the message is about (a mentor's supervisee), and the alert it carries.
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), nullable=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A dispatcher died between "sending" and "sent": ask the channel before resending.
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    identity_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # delivered to
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # "đã nhận"
    body: Mapped[str | None] = mapped_column(Text, nullable=True)  # replies only: {"text", "buttons"}


ALERT_STATUSES = ("open", "acknowledged", "excused", "resolved")


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    reason_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Machine codes only (e.g. "no_shelter,low_wellbeing"), never free text.
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The person's own words that raised it (a crisis message, a check-in
    # note), for their mentor and officers only; erased with the person.
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditEntry(Base):
    """Who read or changed whose data. Never message bodies."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Heartbeat(Base):
    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WebInboxMessage(Base):
    """Messages the product sends first (reminders, alerts) to a web-chat user,
    waiting until the page fetches them. ``key`` is the outbox row's key, so a
    delivery is written once, in the same transaction that marks it sent."""

    __tablename__ = "web_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    body: Mapped[str] = mapped_column(Text)  # JSON {"text": ..., "buttons": [...]}
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Milestone(Base):
    """A date a person asked to be congratulated on (the expungement date the
    calculator gave them). Only the date is kept, never the offence."""

    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("person_id", "kind", name="uq_milestone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    on_date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboundEvent(Base):
    """Each platform update or message id seen, so a webhook retried by the
    platform is processed once. A row stuck in ``processing`` (the gateway died
    mid-turn) may be taken over after a while; ``done`` rows are final."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel", "event_id", name="uq_inbound_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="processing")
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class CallbackPayload(Base):
    """Button payloads too long for a platform's limit (Telegram: 64 bytes),
    kept here behind a short opaque id."""

    __tablename__ = "callback_payloads"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class OAuthToken(Base):
    """Platform tokens that rotate (Zalo OA: single-use refresh tokens).
    Updated under a row lock, both tokens in one transaction."""

    __tablename__ = "oauth_tokens"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RateCounter(Base):
    """Counts per scope and clock hour (failed enrollment codes per chat, per
    source address, across all chats), in the database so that every gateway
    replica shares them. Scopes hold keyed hashes, never addresses or ids."""

    __tablename__ = "rate_counters"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class OfferedPayload(Base):
    """Button payloads that act on something (an alert, a reminder) offered to
    one conversation: a typed payload is accepted only if it was shown there
    (bot.conversation.offered). Only a keyed digest of the payload is kept."""

    __tablename__ = "offered_payloads"

    identity_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    offered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


# --- the staff console (bot/console) ------------------------------------------------


class StaffSignin(Base):
    """A one-time sign-in sent to a staff member's enrolled chat: a short code
    to type and a link token, both stored only as keyed digests. Valid a few
    minutes, used once, a few wrong codes end it. ``pending_hash`` names the
    browser that asked (its cookie), so the code is checked only there."""

    __tablename__ = "staff_signins"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    pending_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failures: Mapped[int] = mapped_column(default=0, server_default="0")


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token; only its keyed
    digest is stored here. Ends at ``expires_at``, after ``IDLE`` without use,
    or when revoked (sign-out, an admin)."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)   # digest of the cookie's token
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))                  # code | link | password
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StaffPassword(Base):
    """An admin's password (Argon2id hash), as a second way in besides the chat."""

    __tablename__ = "staff_passwords"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    hash: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- people reach people: relayed conversations (bot.supervision.conversations) ---

RELAY_STATUSES = ("open", "closed")


class RelayConversation(Base):
    """A conversation between a person and a staff member that the bot relays
    both ways. ``staff_id`` is who it is addressed to (the mentor, else an
    officer or the on-duty staff); it changes when the request is escalated
    and another staff member joins. Times measure responsiveness."""

    __tablename__ = "relay_conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    safety: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    opened_by: Mapped[str] = mapped_column(String(16))          # "person" | "staff"
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    joined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_reply_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_activity_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)  # person|staff|idle|erased


class RelayMessage(Base):
    """One relayed text. ``key`` comes from the inbound event, so a platform's
    retry or a takeover after a restart stores (and sends) it once. Texts are
    kept only as long as the retention setting says, and leave with the
    person's export and erasure."""

    __tablename__ = "relay_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("relay_conversations.id"), index=True)
    sender: Mapped[str] = mapped_column(String(16))     # "person" | "staff"
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class StaffSettings(Base):
    """A staff member's own notification settings: their quiet hours (Vietnam
    time; from == until means none). No row: the product's 21:00–07:00."""

    __tablename__ = "staff_settings"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    quiet_from: Mapped[int] = mapped_column(default=21, server_default="21")
    quiet_until: Mapped[int] = mapped_column(default=7, server_default="7")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
