"""Check-ins: stored once per reporting window, and worrying answers raised at
once as alerts to the person's mentor and commune officers (outbox rows that
the dispatcher delivers). Everything keyed, so a retry never duplicates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.supervision.alerts import raise_alert
from bot.domain.schedule import window_on_or_before
from bot.supervision.people import ANONYMOUS_CHANNELS, active_schedule, audit
from bot.supervision.reminders import streak_note
from vietnamese.clock import utcnow
from bot.storage.models import ChannelIdentity, Checkin, Person
from vietnamese.crisis import DEFAULT_DISTRESS_TERMS, CrisisLexicon

ADDRESS = ("same", "moved", "none")
ACTIVITY = ("working", "looking", "studying", "other")
NEED = ("nothing", "job", "loan", "papers", "housing", "health", "urgent")
WELLBEING_WORRYING_AT_OR_BELOW = 2  # on the 1–5 scale asked in the check-in
# Reasons that wake the mentor and officers at night (quiet hours never hold them).
CRITICAL_REASONS = frozenset({"no_shelter", "crisis_words", "urgent_help", "hunger", "asks_help"})
# A note "asks for help" when it names a hardship (data/normalization/distress.yml)
# or says so in words, matched without diacritics.
HELP_WORDS = ("giup", "cuu", "ho tro", "can tien", "lien lac")


@dataclass(frozen=True)
class Answers:
    address: str
    activity: str
    wellbeing: int
    need: str
    note: str = ""


def person_for_identity(s: Session, identity_id: str) -> Person | None:
    identity = s.get(ChannelIdentity, identity_id)
    if identity is None or identity.person_id is None or identity.channel in ANONYMOUS_CHANNELS:
        return None
    person = s.get(Person, identity.person_id)
    return person if person is not None and person.erased_at is None else None


@lru_cache(maxsize=1)
def distress_lexicon() -> CrisisLexicon:
    return CrisisLexicon.load(DEFAULT_DISTRESS_TERMS)


def _asks_help(note: str) -> bool:
    from vietnamese.text import fold

    folded = f" {fold(note)} "
    return bool(distress_lexicon().matches(note)) or any(f" {w}" in folded for w in HELP_WORDS)


def worrying_reasons(a: Answers, lexicon: CrisisLexicon) -> list[str]:
    reasons = []
    crisis = {m.category for m in lexicon.matches(a.note)} if a.note else set()
    distress = {m.category for m in distress_lexicon().matches(a.note)} if a.note else set()
    if a.address == "none" or "no_shelter" in crisis:
        reasons.append("no_shelter")
    if a.wellbeing <= WELLBEING_WORRYING_AT_OR_BELOW:
        reasons.append("low_wellbeing")
        if a.note and _asks_help(a.note):
            reasons.append("asks_help")
    if a.need == "urgent":
        reasons.append("urgent_help")
    if "hunger" in crisis or "hunger" in distress:
        reasons.append("hunger")
    if crisis - {"no_shelter", "hunger"}:
        reasons.append("crisis_words")
    return reasons


def is_critical(reasons: list[str]) -> bool:
    return bool(CRITICAL_REASONS & set(reasons))


def alert_key(checkin: Checkin) -> str:
    return f"worrying:{checkin.key}"


def record(s: Session, person: Person, channel: str, a: Answers, lexicon: CrisisLexicon,
           today: dt.date, now: dt.datetime | None = None) -> tuple[Checkin, list[str]]:
    """Store (or update) this window's check-in; raise alerts if it is worrying.
    Returns the check-in and the worrying reasons."""
    if a.address not in ADDRESS or a.activity not in ACTIVITY or a.need not in NEED or not 1 <= a.wellbeing <= 5:
        raise ValueError("invalid check-in answers")
    now = now or utcnow()
    schedule = active_schedule(s, person.id)
    window_start = (window_on_or_before(schedule.kind, today, weekday=schedule.weekday,
                                        day_of_month=schedule.day_of_month, window_days=schedule.window_days).start
                    if schedule else today)
    key = f"{person.id}:{window_start.isoformat()}"
    checkin = s.scalar(select(Checkin).where(Checkin.key == key))
    if checkin is None:
        checkin = Checkin(key=key, person_id=person.id, window_start=window_start, channel=channel)
        s.add(checkin)
    reasons = worrying_reasons(a, lexicon)
    checkin.at, checkin.channel = now, channel
    checkin.at_registered_address = a.address == "same"
    checkin.activity, checkin.wellbeing, checkin.needs = a.activity, a.wellbeing, a.need
    checkin.note = a.note or None
    checkin.worrying = bool(reasons)
    s.flush()
    audit(s, f"person:{person.id}", "checkin", person.id, window=window_start.isoformat(), worrying=bool(reasons))
    streak_note(s, person.id, window_start, now)
    if reasons:
        raise_alert(s, person, alert_key(checkin), "worrying_checkin", "critical" if is_critical(reasons) else "high",
                    now, detail=",".join(reasons), note=a.note or None)
    return checkin, reasons
