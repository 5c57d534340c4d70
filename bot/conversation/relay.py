"""The gateway's side of a relayed conversation (bot.supervision.conversations).

Before Rasa sees a message, the gateway asks: is this chat in a relayed
conversation? If so, a typed message is stored and queued to the other side
(through the outbox, with a key made from the platform's event id: exactly
once across retries and restarts), and the bot stays quiet, except

* for safety: a message with crisis words is relayed *and* goes on to Rasa,
  so the crisis path (emergency numbers, alert) runs as always;
* for button payloads (``/checkin``, an alert's buttons…): they go to Rasa.

The gateway also handles the two relay buttons itself: "Nhắn cho anh/chị …"
(``/relay_open{"person_id": …}``, accepted only where it was shown, see
bot.conversation.offered, and only for someone the staff member may see) and
"Kết thúc trò chuyện" (``/relay_close``, or typed).

Why here and not in Rasa: relaying must not depend on the model's reading of
free text (a mentor's "ok, mai gặp" is not an intent), must never put a
relayed text into the tracker, and must be keyed by the inbound event.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.conversation.rasa_client import Button, Reply
from bot.i18n import gettext
from bot.storage.models import ChannelIdentity, Person, RelayConversation
from bot.supervision import conversations as conv_api
from bot.supervision.alerts import display_name
from bot.supervision.handover import STAFF_ROLES, local_hhmm
from vietnamese.crisis import CrisisLexicon

_INTENT = re.compile(r"^/(?P<intent>[^{@]+)(?:@[0-9.]+)?(?P<entities>\{.+\})?", re.DOTALL)
CLOSE_PHRASES = frozenset({"ket thuc tro chuyen", "ket thuc", "dung tro chuyen", "end conversation", "end chat"})


@dataclass(frozen=True)
class Routed:
    replies: list[Reply]
    to_rasa: bool = False     # also let Rasa answer (safety)


@functools.lru_cache(maxsize=1)
def lexicon() -> CrisisLexicon:
    return CrisisLexicon.load()


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def is_close(text: str) -> bool:
    return _plain(text) in CLOSE_PHRASES


def close_button(locale: str) -> Button:
    return Button(gettext("End conversation", locale), conv_api.CLOSE_PAYLOAD)


def _side(s: Session, person: Person) -> tuple[str, RelayConversation | None]:
    if person.role in STAFF_ROLES:
        return "staff", conv_api.focus_for_staff(s, person.id)
    return "person", conv_api.open_for_person(s, person.id)


def _delivery_note(d: conv_api.Delivery, recipient: Person | None, now: dt.datetime, locale: str) -> list[Reply]:
    name = display_name(recipient, locale)
    if not d.queued:
        return [Reply(gettext("{name} cannot be reached through Lối Về right now, so your message was not passed "
                              "on. If it is urgent, please call them or call 113 in danger.", locale).format(name=name))]
    if d.waits_for_window:
        return [Reply(gettext("Zalo lets Lối Về write to {name} only after they write again: your message waits "
                              "until then.", locale).format(name=name))]
    if d.at is not None and d.at > now + dt.timedelta(minutes=1):
        return [Reply(gettext("It is {name}'s quiet time now: your message will reach them at {time}. If it is "
                              "about your safety, say so and it goes at once.", locale).format(
            name=name, time=local_hhmm(d.at)))]
    return []


def in_conversation(sessions: sessionmaker[Session], identity_id: str) -> bool:
    """Is this chat's person in an open relayed conversation (staff: one they joined)?"""
    with sessions() as s:
        identity = s.get(ChannelIdentity, identity_id)
        person = s.get(Person, identity.person_id) if identity is not None and identity.person_id else None
        return person is not None and _side(s, person)[1] is not None


def route(sessions: sessionmaker[Session], identity_id: str, text: str, key: str, locale: str,
          now: dt.datetime) -> Routed | None:
    """None: not a relay matter, the turn goes on to Rasa."""
    stripped = text.strip()
    m = _INTENT.match(stripped)
    intent = m.group("intent").strip() if m else None
    with sessions.begin() as s:
        identity = s.get(ChannelIdentity, identity_id)
        person = s.get(Person, identity.person_id) if identity is not None and identity.person_id else None
        if person is not None and person.erased_at is not None:
            person = None
        if intent == conv_api.OPEN_INTENT:
            return _open(s, person, m.group("entities") if m else None, now, locale)
        if intent == conv_api.CLOSE_INTENT or (person is not None and is_close(stripped)):
            if person is None:
                return Routed([Reply(gettext("There is no conversation with a person open here.", locale))])
            side, conv = _side(s, person)
            if conv is None:
                if intent is None:
                    return None   # "kết thúc" said to the bot: Rasa answers
                return Routed([Reply(gettext("There is no conversation with a person open here.", locale))])
            conv_api.close(s, conv, side, now, tell=("staff",) if side == "person" else ("person",))
            return Routed([Reply(gettext("The conversation is closed. I am here again for your questions.", locale))])
        if person is None or intent is not None or not stripped:
            return None
        side, conv = _side(s, person)
        if conv is None:
            return None
        crisis = bool(lexicon().matches(stripped))
        if crisis:
            conv_api.mark_safety(s, conv)
        delivery = conv_api.append(s, conv, side, stripped, key, now)
        other = s.get(Person, conv.staff_id if side == "person" else conv.person_id)
        return Routed(_delivery_note(delivery, other, now, locale), to_rasa=crisis)


def _open(s: Session, staff: Person | None, entities: str | None, now: dt.datetime, locale: str) -> Routed:
    refused = Routed([Reply(gettext("You cannot open a conversation with this person.", locale))])
    if staff is None or staff.role not in STAFF_ROLES:
        return refused
    try:
        person_id = json.loads(entities or "{}").get("person_id")
    except (ValueError, AttributeError):
        return refused
    if not isinstance(person_id, str) or not person_id:
        return refused
    try:
        conv = conv_api.staff_open(s, staff.id, person_id, now)
    except (conv_api.NotAllowed, LookupError):
        return refused
    subject = s.get(Person, conv.person_id)
    return Routed([Reply(gettext("You are now talking with {name}. What you write here goes to them; press "
                                 "\u201cEnd conversation\u201d when you are done.", locale).format(
        name=display_name(subject, locale)), (close_button(locale),))])
