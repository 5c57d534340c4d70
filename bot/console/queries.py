"""What the console pages show, read through the same role scoping as the chat
and the CLI (``people.visible_people``): a caseload, one person, the alerts
queue, aggregated numbers for the charts. Every read of a person's data is
audited with the staff member as the actor."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.schedule import Window, window_on_or_before
from bot.i18n import N_
from bot.storage.models import (
    Alert,
    ChannelIdentity,
    Checkin,
    CheckinSchedule,
    Commune,
    Consent,
    MentorAssignment,
    OfficerCommune,
    OutboxMessage,
    Person,
    RelayConversation,
    RelayMessage,
)
from bot.supervision import conversations, people
from bot.supervision.people import NotFound, audit
from bot.supervision.reminders import overdue_window, upcoming_window
from vietnamese.clock import VIETNAM_TZ, vietnam_date

DUE_SOON_DAYS = 3
LISTS = ("attention", "due_soon", "no_channel", "unreachable")
SORTS = ("name", "last_checkin", "next_due", "alerts")
REMINDER_KINDS = ("checkin_eve", "checkin_open")
CHART_WEEKS = 8


def actor(viewer: Person) -> str:
    return f"person:{viewer.id}"


@dataclass
class Row:
    person: Person
    commune: str
    mentor: str | None
    channels: list[tuple[str, bool]]          # (channel, reachable)
    last_checkin: dt.datetime | None
    next_due: Window | None
    overdue: bool
    open_alerts: int
    conversation: RelayConversation | None = None     # their open relayed conversation (issue 15), if any
    lists: set[str] = field(default_factory=set)


def _names(s: Session, ids: set[str]) -> dict[str, str]:
    return dict(s.execute(select(Person.id, Person.display_name).where(Person.id.in_(ids))).all()) if ids else {}


def visible_supervisees(s: Session, viewer: Person) -> list[Person]:
    return [p for p in people.visible_people(s, viewer.id) if p.role == "supervisee"]


def caseload(s: Session, viewer: Person, now: dt.datetime, *, only: str | None = None, q: str = "",
             sort: str = "name", commune_id: int | None = None, mentor_id: str | None = None) -> list[Row]:
    found = visible_supervisees(s, viewer)
    if commune_id is not None:
        found = [p for p in found if p.commune_id == commune_id]
    ids = {p.id for p in found}
    if mentor_id is not None:
        ids &= set(s.scalars(select(MentorAssignment.supervisee_id).where(
            MentorAssignment.mentor_id == mentor_id, MentorAssignment.ended_at.is_(None))))
        found = [p for p in found if p.id in ids]
    if not found:
        return []
    today = vietnam_date(now)
    communes = dict(s.execute(select(Commune.id, Commune.name)).all())
    mentors = dict(s.execute(select(MentorAssignment.supervisee_id, MentorAssignment.mentor_id).where(
        MentorAssignment.supervisee_id.in_(ids), MentorAssignment.ended_at.is_(None))).all())
    mentor_names = _names(s, set(mentors.values()))
    chans: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for pid, channel, unreachable in s.execute(select(ChannelIdentity.person_id, ChannelIdentity.channel,
                                                      ChannelIdentity.unreachable_at)
                                               .where(ChannelIdentity.person_id.in_(ids))):
        chans[pid].append((channel, unreachable is None))
    last = dict(s.execute(select(Checkin.person_id, func.max(Checkin.at)).where(Checkin.person_id.in_(ids))
                          .group_by(Checkin.person_id)).all())
    alerts = dict(s.execute(select(Alert.person_id, func.count()).where(Alert.person_id.in_(ids),
                                                                       Alert.status == "open")
                            .group_by(Alert.person_id)).all())
    schedules = {sc.person_id: sc for sc in s.scalars(select(CheckinSchedule).where(
        CheckinSchedule.person_id.in_(ids), CheckinSchedule.active.is_(True)))}
    talks = {c.person_id: c for c in s.scalars(select(RelayConversation).where(
        RelayConversation.person_id.in_(ids), RelayConversation.status == "open").order_by(RelayConversation.id))}
    rows = []
    needle = q.casefold().strip()
    for p in found:
        if needle and needle not in p.display_name.casefold():
            continue
        sc = schedules.get(p.id)
        row = Row(p, communes.get(p.commune_id, "?"), mentor_names.get(mentors.get(p.id, ""), None),
                  sorted(chans.get(p.id, [])), last.get(p.id), upcoming_window(sc, today) if sc else None,
                  bool(sc and overdue_window(s, sc, now)), alerts.get(p.id, 0), talks.get(p.id))
        if row.open_alerts or row.overdue:
            row.lists.add("attention")
        if row.next_due and (row.next_due.start - today).days <= DUE_SOON_DAYS:
            row.lists.add("due_soon")
        if not row.channels:
            row.lists.add("no_channel")
        elif not any(ok for _, ok in row.channels):
            row.lists.add("unreachable")
        rows.append(row)
    if only in LISTS:
        rows = [r for r in rows if only in r.lists]
    far = dt.date.max
    old = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    key = {"name": lambda r: r.person.display_name.casefold(),
           "last_checkin": lambda r: r.last_checkin or old,
           "next_due": lambda r: r.next_due.start if r.next_due else far,
           "alerts": lambda r: -r.open_alerts}.get(sort, lambda r: r.person.display_name.casefold())
    rows.sort(key=key)
    audit(s, actor(viewer), "console_caseload", None, count=len(rows))
    return rows


def list_counts(rows: list[Row]) -> dict[str, int]:
    return {name: sum(1 for r in rows if name in r.lists) for name in LISTS}


def subject(s: Session, viewer: Person, person_id: str, action: str = "console_view_person") -> Person:
    """A person the viewer may see, audited as read; NotFound otherwise (the same
    answer for someone out of scope and someone who does not exist)."""
    if not isinstance(person_id, str) or len(person_id) != 32 or not person_id.isalnum():
        raise NotFound(N_("not found"))
    p = s.get(Person, person_id)
    if p is None or p.erased_at is not None or not people.may_see(s, viewer.id, p.id):
        raise NotFound(N_("not found"))
    audit(s, actor(viewer), action, p.id)
    return p


@dataclass
class Detail:
    person: Person
    commune: str
    schedule: CheckinSchedule | None
    next_due: Window | None
    overdue: bool
    mentor: Person | None
    mentors: list[Person]               # who may be assigned (the commune's mentors)
    checkins: list[Checkin]
    consents: list[Consent]
    reminders: list[OutboxMessage]
    alerts: list[Alert]
    channels: list[ChannelIdentity]
    conversation: RelayConversation | None = None     # their open relayed conversation (issue 15)
    conversation_staff: Person | None = None          # whom it is with
    messages: list[RelayMessage] = field(default_factory=list)   # read through conversations.read (audited)


def detail(s: Session, viewer: Person, person_id: str, now: dt.datetime) -> Detail:
    p = subject(s, viewer, person_id)
    sc = people.active_schedule(s, p.id)
    today = vietnam_date(now)
    mentor_id = s.scalar(select(MentorAssignment.mentor_id).where(MentorAssignment.supervisee_id == p.id,
                                                                   MentorAssignment.ended_at.is_(None)))
    conv = conversations.open_for_person(s, p.id)
    return Detail(
        person=p, commune=(s.get(Commune, p.commune_id) or Commune(name="?")).name, schedule=sc,
        next_due=upcoming_window(sc, today) if sc else None, overdue=bool(sc and overdue_window(s, sc, now)),
        mentor=s.get(Person, mentor_id) if mentor_id else None,
        mentors=list(s.scalars(select(Person).where(Person.role == "mentor", Person.erased_at.is_(None),
                                                    Person.commune_id == p.commune_id)
                               .order_by(Person.display_name))),
        checkins=list(s.scalars(select(Checkin).where(Checkin.person_id == p.id).order_by(Checkin.at.desc())
                                .limit(52))),
        consents=list(s.scalars(select(Consent).where(Consent.person_id == p.id).order_by(Consent.at.desc()))),
        reminders=list(s.scalars(select(OutboxMessage).where(OutboxMessage.person_id == p.id,
                                                             OutboxMessage.kind.in_(REMINDER_KINDS))
                                 .order_by(OutboxMessage.due_at.desc()).limit(30))),
        alerts=list(s.scalars(select(Alert).where(Alert.person_id == p.id).order_by(Alert.created_at.desc())
                              .limit(30))),
        channels=list(s.scalars(select(ChannelIdentity).where(ChannelIdentity.person_id == p.id))),
        conversation=conv, conversation_staff=s.get(Person, conv.staff_id) if conv else None,
        messages=conversations.read(s, viewer.id, conv.id) if conv else [],
    )


def my_chats(s: Session, viewer: Person) -> list[str]:
    """The channels of the viewer's own chats the product can write to now:
    where a conversation they open from the console continues."""
    return sorted(set(s.scalars(select(ChannelIdentity.channel).where(
        ChannelIdentity.person_id == viewer.id, ChannelIdentity.unreachable_at.is_(None),
        ~ChannelIdentity.external_id.startswith("erased:")))))


@dataclass(frozen=True)
class RelayHealth:
    open: int          # open conversations
    waiting: int       # requests from a person with no staff reply yet
    late: int          # of those, waiting longer than the configured time


def relay_health(s: Session, now: dt.datetime, within: dt.timedelta) -> RelayHealth:
    """Counts only (the admin's health page sees every commune)."""
    is_open = RelayConversation.status == "open"
    waiting = (is_open, RelayConversation.opened_by == "person", RelayConversation.first_reply_at.is_(None))
    count = select(func.count()).select_from(RelayConversation)
    return RelayHealth(s.scalar(count.where(is_open)) or 0, s.scalar(count.where(*waiting)) or 0,
                       s.scalar(count.where(*waiting, RelayConversation.requested_at < now - within)) or 0)


def alerts_queue(s: Session, viewer: Person, handled: bool) -> list[tuple[Alert, Person, Checkin | None]]:
    """Open alerts (needs attention) or handled ones, of people the viewer may see."""
    if viewer.role not in ("mentor", "officer", "admin"):
        return []
    ids = {p.id for p in people.visible_people(s, viewer.id)}
    q = select(Alert, Person).join(Person, Person.id == Alert.person_id).where(Alert.person_id.in_(ids))
    q = q.where(Alert.status != "open") if handled else q.where(Alert.status == "open")
    rows = s.execute(q.order_by(Alert.updated_at.desc() if handled else Alert.created_at).limit(200)).all()
    out = []
    for alert, p in rows:
        checkin = None
        if alert.type == "worrying_checkin" and alert.key and alert.key.startswith("worrying:"):
            checkin = s.scalar(select(Checkin).where(Checkin.key == alert.key.removeprefix("worrying:")))
        out.append((alert, p, checkin))
    audit(s, actor(viewer), "console_alerts", None, count=len(out), handled=handled)
    return out


# --- scope lists for forms ---------------------------------------------------------------


def communes_for(s: Session, viewer: Person) -> list[Commune]:
    q = select(Commune).order_by(Commune.name)
    if viewer.role == "officer":
        q = q.where(Commune.id.in_(select(OfficerCommune.commune_id).where(OfficerCommune.officer_id == viewer.id)))
    elif viewer.role != "admin":
        q = q.where(Commune.id == viewer.commune_id)
    return list(s.scalars(q))


def mentors_for(s: Session, viewer: Person) -> list[tuple[Person, str]]:
    communes = {c.id: c.name for c in communes_for(s, viewer)}
    return [(m, communes[m.commune_id]) for m in s.scalars(
        select(Person).where(Person.role == "mentor", Person.erased_at.is_(None),
                             Person.commune_id.in_(communes)).order_by(Person.display_name))]


# --- charts: aggregated numbers only ------------------------------------------------------


def weeks_ending(today: dt.date, n: int = CHART_WEEKS) -> list[dt.date]:
    """The Mondays of the last ``n`` weeks, oldest first."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday - dt.timedelta(weeks=i) for i in range(n - 1, -1, -1)]


def _windows_between(sc: CheckinSchedule, first: dt.date, last: dt.date) -> list[dt.date]:
    kw = {"weekday": sc.weekday, "day_of_month": sc.day_of_month, "window_days": sc.window_days}
    starts, day = set(), last
    while day >= first:
        w = window_on_or_before(sc.kind, day, **kw)
        if w.start < first:
            break
        starts.add(w.start)
        day = w.start - dt.timedelta(days=1)
    return sorted(starts)


@dataclass
class ChartData:
    population: int
    weeks: list[dt.date]
    completion: list[tuple[int, int]]             # (check-ins received, windows due) per week
    reminders: list[tuple[int, int]]              # (confirmed, sent) per week
    alert_types: list[tuple[str, int]]
    ack_hours: list[tuple[str, float | None, int]]   # (type, median hours to first action, handled)
    needs: dict[str, list[int]]                   # need -> count per week
    handoff: list[tuple[int, float | None, int]] = field(default_factory=list)
    # per week: (requests for a person, median minutes to the first staff reply, not answered in time)


def chart_data(s: Session, viewer: Person, now: dt.datetime, *, commune_id: int | None = None,
               mentor_id: str | None = None, answer_within: dt.timedelta = dt.timedelta(minutes=30)) -> ChartData:
    rows = caseload(s, viewer, now, commune_id=commune_id, mentor_id=mentor_id)
    ids = [r.person.id for r in rows]
    today = vietnam_date(now)
    weeks = weeks_ending(today)
    first, week_of = weeks[0], {}
    for i, w in enumerate(weeks):
        for d in range(7):
            week_of[w + dt.timedelta(days=d)] = i
    due = [0] * len(weeks)
    for sc in s.scalars(select(CheckinSchedule).where(CheckinSchedule.person_id.in_(ids),
                                                      CheckinSchedule.active.is_(True))):
        created = vietnam_date(sc.created_at)
        for start in _windows_between(sc, max(first, created), today):
            due[week_of[start]] += 1
    got = [0] * len(weeks)
    needs: dict[str, list[int]] = defaultdict(lambda: [0] * len(weeks))
    for c in s.scalars(select(Checkin).where(Checkin.person_id.in_(ids))):
        start = c.window_start or vietnam_date(c.at)
        if start in week_of:
            got[week_of[start]] += 1
        day = vietnam_date(c.at)
        if day in week_of and c.needs and c.needs != "nothing":
            needs[c.needs][week_of[day]] += 1
    sent, confirmed = [0] * len(weeks), [0] * len(weeks)
    for r in s.scalars(select(OutboxMessage).where(OutboxMessage.person_id.in_(ids),
                                                   OutboxMessage.kind.in_(REMINDER_KINDS),
                                                   OutboxMessage.sent_at.is_not(None))):
        day = vietnam_date(r.sent_at)
        if day in week_of:
            sent[week_of[day]] += 1
            confirmed[week_of[day]] += r.acknowledged_at is not None
    start_at = dt.datetime.combine(first, dt.time(), dt.timezone.utc)
    alerts = list(s.scalars(select(Alert).where(Alert.person_id.in_(ids), Alert.created_at >= start_at)))
    types = Counter(a.type for a in alerts)
    hours: dict[str, list[float]] = defaultdict(list)
    for a in alerts:
        if a.status != "open":
            hours[a.type].append((a.updated_at - a.created_at).total_seconds() / 3600)
    ack = []
    for kind in sorted(types):
        values = sorted(hours.get(kind, []))
        median = values[len(values) // 2] if values else None
        ack.append((kind, None if median is None else round(median, 1), len(values)))
    handoff = []
    for w in weeks:     # weeks from Monday 00:00 in Vietnam
        since = dt.datetime.combine(w, dt.time(), VIETNAM_TZ).astimezone(dt.timezone.utc)
        r = conversations.responsiveness(s, since, now, answer_within, until=since + dt.timedelta(weeks=1),
                                         person_ids=ids)
        handoff.append((r.requests, None if r.median_s is None else round(r.median_s / 60, 1), r.unanswered))
    audit(s, actor(viewer), "console_charts", None, population=len(ids))
    return ChartData(len(ids), weeks, list(zip(got, [max(d, g) for d, g in zip(due, got)])),
                     list(zip(confirmed, sent)), sorted(types.items()), ack, dict(needs), handoff)
