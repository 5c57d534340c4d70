"""The expungement conversation: a Rasa form whose questions are exactly what
the calculator (bot.domain.expungement) still needs, filled from everything the
person says, in one message or several, correctable, and cancellable."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.answers import KNOWLEDGE, _abbreviations, chosen_question, utter_entries, utter_question
from actions.common import (RELATIVE_STORY, CalculationResult, ExtractingForm, answer_with_details, caution_and_citation,
                            database, day_of, entities_of, is_cancel, main_penalty, probation_end_from_release,
                            probation_lengths, relative_texts, said_of, start_form)
from actions.menu import last_bot_action, tracker_locale
from bot.supervision.checkins import person_for_identity
from vietnamese.clock import today_in_vietnam
from bot.domain.expungement import (ASSUMABLE, PENALTIES, Case, InvalidInput, Result, calculate, leaves_no_record,
                                   waiting_period)
from bot.domain import blhs
from bot.domain.knowledge import Entry
from bot.domain.periods import Period, period_end
from bot.i18n import N_, NP_, format_date, format_period, formatters, gettext, pgettext
from bot.storage.db import insert_for
from bot.supervision.people import audit
from vietnamese.clock import utcnow
from bot.storage.models import Milestone
from vietnamese import entities as ventities
from vietnamese.text import fold, nfc, normalize

FORM = "expungement_form"
# Calculator input → the slot that holds it (the order of questions is the calculator's).
SLOT_FOR = {
    "penalty": "exp_penalty", "prison_term": "exp_prison_term", "completed_on": "exp_completed_on",
    "age_at_offence": "exp_age_group", "minor_serious": "exp_minor_serious",
    "special_chapter": "exp_special_chapter", "supplementary_until": "exp_supplementary",
    "other_decisions_done": "exp_other_done", "new_crime": "exp_new_crime",
    "new_penalty": "exp_new_penalty", "new_prison_term": "exp_new_prison_term",
    "new_completed_on": "exp_new_completed_on", "new_age_at_offence": "exp_new_age_group",
    "clause": "exp_clause",
}
# Said in passing, never asked on their own: the crime, negligence, conditional early release.
INFO_SLOTS = ("exp_article", "exp_intent", "exp_early_release", "exp_probation_end", "exp_relative")
SLOTS = (*SLOT_FOR.values(), "exp_supplementary_until", *INFO_SLOTS, "exp_cancelled")
YES_NO_SLOTS = ("exp_minor_serious", "exp_special_chapter", "exp_other_done", "exp_new_crime")
AGE_GROUPS = ("adult", "minor", "child")
# A number answering "how old": not one of a duration, a date or an amount.
_AGE_RE = re.compile(r"(?:(?P<rel>tren|hon|du|duoi|chua du)\s+)?(?<![\d/.-])(?P<n>\d{1,2})"
                     r"(?![\d/.-]|\s*(?:nam|thang|ngay|tuan|tr|trieu|k|ty)\b)")
# Conditional early release ("tha tù trước thời hạn (có điều kiện)"): completion is the end of probation.
# An age said in passing: "lúc đó 17 tuổi", "năm đó e mới 16t", "25 tuổi".
_AGE_SAID_RE = re.compile(r"(?<![\d/.,-])(?P<n>\d{1,2})\s*tuoi\b"
                          r"|\b(?:luc do|khi do|hoi do|nam do|luc ay|khi ay|luc pham toi|khi pham toi)\b"
                          r"(?:\s+\w+){0,3}?\s+(?P<m>\d{1,2})\s*t\b"
                          r"|\b(?:nam|hoi|luc|khi)\s+(?P<k>\d{1,2})\s*t\b")  # "năm 16t e bị…": at 16
_EARLY_RE = re.compile(r"\btha (tu )?truoc (thoi )?han\b|\btha tu som\b|\btha co dieu kien\b")
_ARTICLE_RE = re.compile(r"\bdieu (\d{3})\b")
_CLAUSE_RE = re.compile(r"\bkhoan (\d)\b")
_NEGLIGENT_RE = re.compile(r"\bvo y\b")
# The class of the crime said in words: "tội rất/đặc biệt nghiêm trọng" (heavy) or "tội (ít) nghiêm trọng".
_SEVERITY_SAID_RE = re.compile(r"\btoi (?:(?P<heavy>rat|dac biet) |it )?nghiem trong\b")
# Words people use for a crime → the article (BLHS 2015); only unambiguous ones.
_CRIME_WORDS = (
    (re.compile(r"\b(tai nan giao thong|gay tai nan|dam chet nguoi|tong chet nguoi|dung xe chet nguoi)\b"), "260"),
    (re.compile(r"\bvo y lam chet nguoi\b"), "128"),
    (re.compile(r"\btrom( cap)?\b"), "173"),
    (re.compile(r"\blua dao\b"), "174"),
    (re.compile(r"\bcuop giat\b"), "171"),
    (re.compile(r"\bcuop( tai san)?\b(?! giat)"), "168"),
    (re.compile(r"\bcuong doat\b"), "170"),
    (re.compile(r"\b(co y )?gay thuong tich\b"), "134"),
    (re.compile(r"\bto chuc danh bac\b"), "322"),
    (re.compile(r"\bdanh bac\b"), "321"),
    (re.compile(r"\bgay roi trat tu\b"), "318"),
    (re.compile(r"\bbuon lau\b"), "188"),
    (re.compile(r"\btang tru (trai phep )?(chat )?ma tuy\b"), "249"),
    (re.compile(r"\bmua ban (trai phep )?(chat )?ma tuy\b"), "251"),
    (re.compile(r"\bcho vay lai nang\b"), "201"),
)
# Crimes of the chapters the court clears (Chương XIII an ninh quốc gia, XXVI; knowledge data
# blhs.chapter.*), said in words or by article: the court decides on expungement (Điều 71),
# never automatic, so the story's own words settle the question instead of the
# "not a national-security crime" assumption.
_SECURITY_RE = re.compile(r"\b(chong (pha )?(nha nuoc|chinh quyen)|an ninh quoc gia|lat do chinh quyen|gian diep"
                          r"|phan boi to quoc|bao loan|pha roi an ninh|chong pha co so giam giu"
                          r"|toi (pham )?chien tranh|chong loai nguoi|pha hoai hoa binh)\b")
# A short answer to "which penalty?" ("tù", "án treo", "miễn hình phạt") that the entity
# extractor leaves alone because no duration or verb is next to it.
_PENALTY_WORDS = (
    (re.compile(r"\bmien (hinh phat|an)\b|\bduoc mien\b"), "exempt"),
    (re.compile(r"\b(an )?treo\b"), "suspended"),
    (re.compile(r"\bcai tao\b"), "non_custodial"),
    (re.compile(r"\bphat tien\b"), "fine"),
    (re.compile(r"\bcanh cao\b"), "warning"),
    (re.compile(r"\bchung than\b"), "life"),
    (re.compile(r"\b(tu|ngoi tu|di tu|o tu|phat tu|tu giam|tu co thoi han)\b(?! phap)"), "prison"),
)
# A supplementary penalty said in the story ("3 năm tù và 2 năm quản chế"): its end is asked.
_SUPPLEMENTARY_RE = re.compile(r"\b(quan che|cam cu tru|cam hanh nghe|cam dam nhiem|tuoc (mot so )?quyen|"
                               r"hinh phat bo sung)\b")
_SUPPLEMENTARY_NONE_RE = re.compile(r"\b(khong|ko|k|chua|het|xong|da xong)\s+(co\s+)?(bi\s+)?"
                                    r"(quan che|cam cu tru|hinh phat bo sung)\b|"
                                    r"\b(quan che|cam cu tru|hinh phat bo sung)\s+(cung\s+)?(da\s+)?(xong|het)\b")
# "quản chế"/"cấm cư trú" run from the completion of the prison term (BLHS Điều 42–43), and so do
# "cấm đảm nhiệm chức vụ, cấm hành nghề…" and "tước một số quyền công dân" after a prison term
# (Điều 41 khoản 3, Điều 44 khoản 2): "3 năm tù và 3 năm quản chế, ra tù 01/04/2023" ends on
# 01/04/2026; "3 năm tù, cấm hành nghề 5 năm, ra tù 01/01/2022" on 01/01/2027.
_AFTER_PRISON_NAMES = (r"(?P<w>quan che|cam cu tru|cam hanh nghe|cam dam nhiem(?: chuc vu)?|cam lam cong viec"
                       r"|tuoc (?:mot so )?quyen(?: cong dan)?)")
_AFTER_PRISON_RE = re.compile(r"(?P<n>\d{1,2})\s*(?P<u>nam|thang)\s+" + _AFTER_PRISON_NAMES + r"\b"
                              r"|\b" + _AFTER_PRISON_NAMES.replace("?P<w>", "?P<w2>")
                              + r"(?:\s+\w+){0,3}?\s+(?P<n2>\d{1,2})\s*(?P<u2>nam|thang)\b")
# Only quản chế and cấm cư trú always follow a prison term; the bans follow it when the main penalty was prison.
_ALWAYS_AFTER_PRISON = ("quan che", "cam cu tru")
# "án 4 năm", "bị án 18 tháng", "em bị 8 năm", "tòa xử 5 năm", "lãnh 3 năm": a term said with "án",
# "bị", "xử", "tuyên", "lãnh" and no other penalty named is a prison term ("bị 1 năm cải tạo", "bị 2 năm
# thử thách" are not).
_AN_TERM_RE = re.compile(r"\b(an|bi|bi xu|bi tuyen|bi phat|xu|tuyen|lanh|linh|dinh|kep)\s+(an\s+)?"
                         r"(\d{1,2}|mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi)(\s*(nam|thang)|(?<=\d)n)\b"
                         r"(?!\s+(cai tao|thu thach|treo|quan che|cam|tuoc))")
# "tính giúp em ngày xóa án tích": the person wants the calculation, not the counting rule.
_CALC_RE = re.compile(r"\btinh\s+(giup|ho|dum|gium|cho|xem|thu|ngay)\b|\btinh\s+\w+\s+ngay\b")
_PAID_RE = re.compile(r"(da|xong)\s+(nop|tra|boi thuong|thi hanh)|(nop|tra|boi thuong)\s+(du|xong|het)"
                      r"|\b(khong con|het) (no|thieu)\b")
# "chưa trả", and debts said as debts: "còn nợ tiền bồi thường", "nợ án phí", "còn thiếu tiền phạt"
_UNPAID_RE = re.compile(r"chua\s+(nop|tra|boi thuong|thi hanh|xong|den)"
                        r"|(?<!khong )\bcon (no|thieu)\b|\bno (tien )?(boi thuong|an phi|tien phat|phat)\b")


# The day of the judgment, from which a suspended sentence's probation runs ("thử thách 4 năm tính từ
# ngày tuyên án 12/5/2021", "bị xử ngày…"), not the end of probation.
# ...or the day probation started ("thử thách tính từ ngày 5/6/2023").
_VERDICT_DATE_RE = re.compile(r"\b(tuyen an|xu an|toa xu|toa tuyen|bi xu|ngay xu|ngay tuyen|xu so tham|xu phuc tham|"
                              r"thu thach (?:tinh |bat dau )?tu|tinh tu ngay|bat dau tu)\b")


def _sentence_not_probation(folded: str, durations: list) -> Any:
    """The prison term among the durations: "thử thách 2 năm, án 7 năm" names the probation first."""
    from vietnamese.entities import parse_duration

    probation = {parse_duration(d) for d in probation_lengths(folded)}
    others = [d for d in durations if str(d) not in probation]
    return others[0] if others and len(others) < len(durations) else durations[0]


def extract(message: dict, requested: str | None, today: dt.date) -> dict[str, Any]:
    """Slot values in one message. Entities that fit the question asked fill it;
    others fill their usual slot (so "à nhầm, tù 4 năm" corrects the term)."""
    text = message.get("text") or ""
    folded = fold(text).strip(" .!?")
    intent = (message.get("intent") or {}).get("name")
    ents = entities_of(message)
    out: dict[str, Any] = {}
    if is_cancel(message):
        return {"exp_cancelled": True}
    new_phase = bool(requested and requested.startswith("exp_new_"))
    prefix = "exp_new_" if new_phase else "exp_"
    if ents.get("penalty_type"):
        out[f"{prefix}penalty"] = main_penalty(ents["penalty_type"])
    elif ents.get("duration") and _AN_TERM_RE.search(folded):
        out[f"{prefix}penalty"] = "prison"
    elif requested in ("exp_penalty", "exp_new_penalty"):
        for regex, kind in _PENALTY_WORDS:
            if regex.search(folded):
                out[f"{prefix}penalty"] = kind
                break
        else:
            if ents.get("duration") and not ents.get("date"):
                out[f"{prefix}penalty"] = "prison"  # "3 năm" typed to "which penalty?": a prison term
    durations = ents.get("duration") or []
    if durations and (requested in ("exp_prison_term", "exp_new_prison_term")
                      or out.get(f"{prefix}penalty") == "prison"
                      or "prison" in (ents.get("penalty_type") or [])):
        out[f"{prefix}prison_term"] = _sentence_not_probation(folded, durations)
    dates = sorted(str(d) for d in ents.get("date") or [])
    if dates:
        if requested in ("exp_supplementary", "exp_supplementary_until"):
            out["exp_supplementary_until"] = dates[-1]
            out["exp_supplementary"] = "until"
        else:
            out[f"{prefix}completed_on"] = _completion_date(message, dates)
    age_slot = "exp_new_age_group" if requested == "exp_new_age_group" else "exp_age_group"
    groups = ents.get("age_group") or []
    said_age = _AGE_SAID_RE.search(folded)
    if groups:
        out[age_slot] = groups[-1]
    elif said_age and not re.search(r"\b(duoi|chua du|tren|hon)\s+\d", folded):
        out[age_slot] = int(said_age["n"] or said_age["m"] or said_age["k"])
    elif (requested in ("exp_age_group", "exp_new_age_group")
          and (m := re.fullmatch(r"(?:\w+\s+){0,3}(\d{1,2})\s*t", folded))):
        out[age_slot] = int(m.group(1))  # "luc do e 25t": "25t" is an age here, not 25 triệu
    elif (requested in ("exp_age_group", "exp_new_age_group")
          and not (ents.get("duration") or ents.get("date") or ents.get("money"))
          and (age := _age_answer(folded, today)) is not None):
        out[age_slot] = age
    # Conditional early release: the end of probation is the completion (BLHS Điều 66 khoản 3).
    if dates and (requested == "exp_probation_end"
                  or (_EARLY_RE.search(folded) and (len(dates) > 1 or "thu thach" in folded))):
        out["exp_probation_end"] = dates[-1]
        if requested != "exp_probation_end" and (end := probation_end_from_release(folded, dates)):
            out["exp_probation_end"] = end  # "tha … tháng 5/2025, thử thách 1 năm 2 tháng": ends 07/2026
    if _EARLY_RE.search(folded):
        out["exp_early_release"] = True
    elif (requested is None and len(dates) == 1 and out.get(f"{prefix}penalty") == "suspended"
          and _VERDICT_DATE_RE.search(folded) and (end := probation_end_from_release(folded, dates))):
        # "án treo, thử thách 4 năm tính từ ngày tuyên án 12/5/2021": probation ends 12/05/2025
        out[f"{prefix}completed_on"] = end
    if not new_phase:
        if m := _ARTICLE_RE.search(folded):
            out["exp_article"] = m.group(1)
        else:
            for regex, number in _CRIME_WORDS:
                if regex.search(folded):
                    out["exp_article"] = number
                    break
        security = _SECURITY_RE.search(folded)
        if security and re.search(r"\b(khong|ko|k|chang|deo)( phai)?( la)?( toi)?( xam pham)?\s*$",
                                  folded[:security.start()]):
            security = None  # "không phải tội an ninh quốc gia"
        if security or blhs.in_court_chapter(KNOWLEDGE, out.get("exp_article"), today):
            out["exp_special_chapter"] = True
        if m := _CLAUSE_RE.search(folded):
            out["exp_clause"] = m.group(1)
        elif requested == "exp_clause" and (ents.get("clause") or re.fullmatch(r"\d", folded)):
            out["exp_clause"] = str((ents.get("clause") or [folded])[-1])
        elif requested == "exp_clause" and re.search(r"\b(khong|ko|chua) (nho|biet|ro)\b", folded):
            out["exp_clause"] = "unknown"
        if _NEGLIGENT_RE.search(folded):
            out["exp_intent"] = "negligent"
    if requested is None and (m := _SEVERITY_SAID_RE.search(folded)):
        # "(tội rất nghiêm trọng)": the class of the crime, which decides an offence at 16–17 (Điều 107)
        out["exp_minor_serious"] = bool(m.group("heavy"))
    if requested is None and not new_phase and RELATIVE_STORY.search(folded):
        out["exp_relative"] = True
    if requested is None and _SUPPLEMENTARY_RE.search(folded):
        out["exp_supplementary"] = "none" if _SUPPLEMENTARY_NONE_RE.search(folded) else "yes"
        released = completion_day(out.get("exp_completed_on"))
        m = _AFTER_PRISON_RE.search(folded)
        after_prison = m is not None and ((m["w"] or m["w2"]) in _ALWAYS_AFTER_PRISON
                                          or out.get("exp_penalty") in ("prison", "life"))
        if out["exp_supplementary"] == "yes" and released and not out.get("exp_early_release") and after_prison:
            n, unit = int(m["n"] or m["n2"]), m["u"] or m["u2"]
            months = n * 12 if unit == "nam" else n
            out["exp_supplementary"] = "until"
            out["exp_supplementary_until"] = period_end(released, Period(months=months)).isoformat()
    # as typed first ("nợ" would expand as "no" = không), then with the abbreviations expanded ("chx trả")
    for said in (folded, fold(_abbreviations().expand(normalize(text))).strip(" .!?")):
        if _UNPAID_RE.search(said) and not re.search(r"\b(khong con|het) (no|thieu)\b", said):
            out["exp_other_done"] = False
            break
        if _PAID_RE.search(said):
            out["exp_other_done"] = True
            break
    if requested is None and (both := two_convictions(text, today)):
        out.update(both)
    elif requested is None and (later := adult_after_childhood(text, today)):
        out.update(later)
    if requested in YES_NO_SLOTS and intent in ("affirm", "deny"):
        out[requested] = intent == "affirm"
    if requested == "exp_supplementary" and intent in ("affirm", "deny"):
        out["exp_supplementary"] = "none" if intent == "deny" else "yes"
    return out


_PAYMENT_BEFORE = re.compile(r"\b(nop|dong|tra|boi thuong|an phi|tien phat|phat bo sung)\b(\s+\w+){0,4}\s*$")
_COMPLETION_BEFORE = re.compile(r"(ra tu|ra trai|chap hanh xong|man han|het (thoi gian )?thu thach|het an|xong an)"
                                r"(\s+\w+){0,2}\s*$")


def _completion_date(message: dict, dates: list[str]) -> str:
    """The completion among the dates of a message: the latest date (release comes after the offence),
    but when some dates follow "ra tù", "chấp hành xong"…, the latest of those: "ra tù ngày 1/10/2024,
    tiền phạt bổ sung nộp xong tháng 3/2025" completed the sentence on 1/10/2024 (a payment within the
    period does not move the start, BLHS Điều 70 khoản 2)."""
    if len(dates) < 2:
        return dates[-1]
    text = message.get("text") or ""
    placed = [(str(e.get("value")), fold(text[:e["start"]])) for e in message.get("entities") or []
              if e.get("entity") == "date" and isinstance(e.get("start"), int)]
    # "đã nộp xong án phí ngày 10/8/2023", "tiền phạt nộp xong tháng 3/2025": a payment, not the release
    unpaid = [(d, before) for d, before in placed if not _PAYMENT_BEFORE.search(before)]
    released = sorted(d for d, before in unpaid if _COMPLETION_BEFORE.search(before))
    if released and released[-1] in dates:
        return released[-1]
    others = sorted(d for d, _ in unpaid)
    return others[-1] if others and len(unpaid) < len(placed) and others[-1] in dates else dates[-1]


# Between two sentences a bare "ra" before a date is a release too: "bị 2 năm tù ra 01/03/2021, … lại bị
# xử thêm 1 năm 6 tháng tù, tới mới ra lần 2 ngày 15/07/2025" (acceptance_fresh11).
_RELEASED_BEFORE = re.compile(r"\bra(?! toa\b)(\s+\w+){0,2}\s*$")   # not "ra tòa" (to court)


def two_convictions(text: str, today: dt.date) -> dict[str, Any]:
    """Two judgments told in one message ("2015 bị 2 năm tù, ra tù 2017; 2019 bị
    3 năm tù, ra tù 01/06/2022"): each sentence with the completion date that
    follows it, as the first conviction and the new one (legal-facts.md section 0:
    both assessed). {} unless both sentences and both dates are there."""
    found = ventities.extract(text, today)
    folded = fold(nfc(text))
    sentences = _sentences_told(found, folded)
    completions = [e for e in found if e.entity == "date" and (_COMPLETION_BEFORE.search(folded[:e.start])
                                                                or _RELEASED_BEFORE.search(folded[:e.start]))]
    if len(sentences) < 2 or len(completions) < 2:
        return {}
    pairs = []
    for k, (start, penalty, term) in enumerate(sentences[:2]):
        limit = sentences[k + 1][0] if k + 1 < len(sentences) else len(folded)
        after = [d for d in completions if start < d.start and (k == 1 or d.start < limit)]
        if not after:
            return {}
        pairs.append((penalty, term, str(after[0].value)))
    (p1, t1, d1), (p2, t2, d2) = pairs
    out: dict[str, Any] = {"exp_penalty": p1, "exp_completed_on": d1, "exp_new_crime": True,
                           "exp_new_penalty": p2, "exp_new_completed_on": d2}
    if t1:
        out["exp_prison_term"] = t1
    if t2:
        out["exp_new_prison_term"] = t2
    return out


def adult_after_childhood(text: str, today: dt.date) -> dict[str, Any]:
    """Two sentences told with an age for each, the first offence under 16 and the later one as an adult
    ("năm 15 tuổi bị 9 tháng tù… năm 2022, lúc 20 tuổi, lại bị 3 năm tù, ra trại 14/2/2025"): the first
    leaves no record (BLHS Điều 107 khoản 1), the later one has its own period (legal-facts.md section 0).
    The case is the later sentence alone, with its age and completion date. {} otherwise."""
    found = ventities.extract(text, today)
    folded = fold(nfc(text))
    sentences = _sentences_told(found, folded)
    ages = [int(m["n"]) for m in re.finditer(r"(?<![\d/.,-])(?P<n>\d{1,2})\s*tuoi\b", folded)]
    if len(sentences) < 2 or len(ages) < 2:
        return {}
    if not (ages[0] < KNOWLEDGE.value("blhs.d107.no_record_below_age", today)
            <= KNOWLEDGE.value("blhs.adult_age", today) <= ages[-1]):
        return {}
    start, penalty, term = sentences[-1]
    after = [e for e in found if e.entity == "date" and e.start > start
             and (_COMPLETION_BEFORE.search(folded[:e.start]) or _RELEASED_BEFORE.search(folded[:e.start]))]
    if not after:
        return {}
    out: dict[str, Any] = {"exp_penalty": penalty, "exp_completed_on": str(after[0].value), "exp_age_group": ages[-1]}
    if term:
        out["exp_prison_term"] = term
    return out


def _sentences_told(found: list, folded: str) -> list[tuple[int, str, str | None]]:
    """Each sentence told in the message, in order: (where, penalty, prison term or None)."""
    sentences: list[tuple[int, str, str | None]] = []
    for i, e in enumerate(found):
        if e.entity == "penalty_type" and e.value in ("suspended", "life"):
            sentences.append((e.start, e.value, None))
        elif e.entity == "duration":
            near = [f for f in found[max(0, i - 1):i + 2] if f.entity == "penalty_type" and f.value == "prison"
                    and (abs(f.start - e.end) <= 2 or abs(e.start - f.end) <= 2)]
            if near:
                sentences.append((min(e.start, near[0].start), "prison", str(e.value)))
            elif any(m.start() < e.start < m.end() for m in _AN_TERM_RE.finditer(folded)):
                # "…, 2019 lại dính thêm vụ nữa bị 5n, ra trại 3/9/2024": "bị 5 năm" is a sentence too
                sentences.append((e.start, "prison", str(e.value)))
    return sentences


def _age_answer(folded: str, today: dt.date) -> int | None:
    """An answer to "how old were you": "17", "17 tuổi", "trên 18", "dưới 16".
    "dưới 18" does not say whether the person was under 16: ask again."""
    m = _AGE_RE.search(folded)
    if not m:
        return None
    n, rel = int(m["n"]), m["rel"]
    if rel in ("duoi", "chua du"):
        no_record = KNOWLEDGE.value("blhs.d107.no_record_below_age", today)
        return n - 1 if n <= no_record else None
    return n


def _age_years(group: Any, today: dt.date) -> int | None:
    if isinstance(group, int):
        return group
    adult = KNOWLEDGE.value("blhs.adult_age", today)
    no_record = KNOWLEDGE.value("blhs.d107.no_record_below_age", today)
    return {"adult": adult, "minor": no_record, "child": no_record - 1}.get(group)


def completion_day(value: Any) -> dt.date | None:
    """A completion date as a day: a month alone is its last day (actions.common.day_of), a
    year alone ("ra tù năm ngoái", "năm 2020") its last day, 31/12: the later date, so the
    record is never said to be cleared before it is; the answer states the assumption."""
    if value and re.fullmatch(r"\d{4}", str(value)):
        return dt.date(int(str(value)), 12, 31)
    return day_of(value)


def case_from_slots(slots: dict[str, Any], today: dt.date) -> Case:
    def period(v: Any) -> Period | None:
        return Period.parse(v) if v else None

    supplementary = slots.get("exp_supplementary")
    new_age = slots.get("exp_new_age_group")
    article = slots.get("exp_article")
    return Case(
        article=str(article) if article else None,
        clause=str(slots["exp_clause"]) if slots.get("exp_clause") else None,
        intent=slots.get("exp_intent"),
        early_release=bool(slots.get("exp_early_release")),
        new_age_at_offence=_age_years(new_age, today) if new_age is not None else None,
        penalty=slots.get("exp_penalty"),
        prison_term=period(slots.get("exp_prison_term")),
        completed_on=completion_day(
            slots.get("exp_probation_end" if slots.get("exp_early_release") else "exp_completed_on")),
        age_at_offence=_age_years(slots.get("exp_age_group"), today),
        minor_serious=slots.get("exp_minor_serious"),
        special_chapter=slots.get("exp_special_chapter"),
        no_supplementary=True if supplementary == "none" else None,
        supplementary_until=day_of(slots.get("exp_supplementary_until")) if supplementary == "until" else None,
        other_decisions_done=slots.get("exp_other_done"),
        new_crime=slots.get("exp_new_crime"),
        new_penalty=slots.get("exp_new_penalty"),
        new_prison_term=period(slots.get("exp_new_prison_term")),
        new_completed_on=completion_day(slots.get("exp_new_completed_on")),
    )


def still_needed(slots: dict[str, Any], today: dt.date) -> list[str]:
    """Slots still to ask, in the calculator's order ([] when it can answer)."""
    if slots.get("exp_cancelled"):
        return []
    if slots.get("exp_supplementary") == "yes" and not slots.get("exp_supplementary_until"):
        return ["exp_supplementary_until"]
    try:
        result = calculate(case_from_slots(slots, today), KNOWLEDGE, today)
    except InvalidInput:
        return []  # the result action explains what is wrong
    early = bool(slots.get("exp_early_release"))
    return ["exp_probation_end" if m == "completed_on" and early else SLOT_FOR[m] for m in result.missing]


class ValidateExpungementForm(ExtractingForm):
    def name(self) -> str:
        return f"validate_{FORM}"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: dict[str, Any]) -> list[str]:
        return still_needed(dict(tracker.slots), today_in_vietnam())

    def extracted(self, tracker: Tracker) -> dict[str, Any]:
        return extract(tracker.latest_message or {}, tracker.get_slot("requested_slot"), today_in_vietnam())

    def corrections(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Impossible answers are reset, with the reason, so they are asked again."""
        locale = tracker_locale(tracker)
        today = today_in_vietnam()
        events: list[EventType] = []
        for slot in ("exp_completed_on", "exp_new_completed_on", "exp_supplementary_until"):
            value = tracker.get_slot(slot)
            known = day_of(value) if slot == "exp_supplementary_until" else completion_day(value)
            if value and known is None:
                dispatcher.utter_message(text=gettext(
                    "Please tell me the month and year too (and the day if you remember).", locale))
                events.append(SlotSet(slot, None))
            elif (value and slot != "exp_supplementary_until" and known > today
                  and not (slot == "exp_completed_on" and tracker.get_slot("exp_penalty") == "suspended")):
                dispatcher.utter_message(text=gettext("That date is in the future. Please check it.", locale))
                events.append(SlotSet(slot, None))
        for slot in ("exp_penalty", "exp_new_penalty"):
            if tracker.get_slot(slot) and tracker.get_slot(slot) not in PENALTIES:
                events.append(SlotSet(slot, None))
        slots = {**tracker.slots, **{e["name"]: e["value"] for e in events}}
        try:
            first_alone = calculate(replace(case_from_slots(slots, today), new_crime=False), KNOWLEDGE, today)
            if (first_alone.route == "no_record" and tracker.get_slot("requested_slot") != "exp_new_crime"
                    and still_needed(slots, today)[:1] == ["exp_new_crime"]):
                # Say it now, then ask about later convictions: those follow their own rules.
                why = " ".join(_said(NO_RECORD_REASONS[x], today, locale) for x in first_alone.no_record_reasons
                               if x in NO_RECORD_REASONS)
                dispatcher.utter_message(text=gettext(
                    "For that judgment alone, you are not considered to have a criminal record. %(why)s", locale)
                    % {"why": why})
        except (InvalidInput, ValueError):
            pass
        try:
            calculate(case_from_slots(slots, today),
                      KNOWLEDGE, today)  # later SlotSets win: corrections override extractions
        except InvalidInput as exc:
            if exc.field in ("prison_term", "new_prison_term"):
                dispatcher.utter_message(text=gettext("That prison term is not possible. Please check it.", locale))
                events.append(SlotSet(SLOT_FOR[exc.field], None))
        return events


# Answer first: what the answer assumes when the person did not say it (bot.domain.expungement.ASSUMABLE),
# as slot values; and what a correction button sets instead (None: ask the question).
ASSUMED = {SLOT_FOR[name]: value for name, value in ASSUMABLE.items()}
CORRECTED = {"exp_age_group": None, "exp_special_chapter": True, "exp_new_crime": True,
             "exp_supplementary": "yes", "exp_other_done": False}
ASSUMPTION_PHRASES = {
    "exp_age_group": N_("you were 18 or older when the offence was committed"),
    "exp_special_chapter": N_("it was not a national-security crime"),
    "exp_new_crime": N_("you have not been convicted of a new crime"),
    "exp_supplementary": N_("no supplementary penalty is still running"),
    "exp_other_done": N_("the court fees, compensation and fines are paid"),
    "month_only": N_("you completed the sentence on the last day of that month (tell me the day if you know it)"),
    "year_only": N_("you completed the sentence on 31/12 of that year"),
}
CORRECTION_BUTTONS = {
    "exp_age_group": N_("I was under 18 then"),
    "exp_special_chapter": N_("National-security crime"),
    "exp_new_crime": N_("I had a new conviction"),
    "exp_supplementary": N_("Supplementary penalty running"),
    "exp_other_done": N_("Not all paid yet"),
}
# The same texts when the story is a relative's (slot exp_relative): "người nhà anh/chị", "they".
# Their plain versions are extracted from the said_of calls (make extract: -k said_of:1).
relative_texts(
    NP_("relative", "Your record was cleared automatically on %(date)s (waiting period %(wait)s, ended on %(end)s)."),
    NP_("relative", "Your record will be cleared automatically on %(date)s (waiting period %(wait)s, ending on "
                    "%(end)s), if you commit no new crime before then."),
    NP_("relative", "From what you told me, you are not considered to have a criminal record."),
    NP_("relative", "Not cleared yet: the record cannot be cleared until the other decisions of the judgment "
                    "(compensation, court fees, fines) are carried out. The waiting period of %(wait)s ends on "
                    "%(end)s."),
    NP_("relative", "For this crime the record is cleared by the court: you may apply to the court that tried "
                    "the case from %(date)s (waiting period %(wait)s)."),
    NP_("relative", "Until then you still have a criminal record: on forms, do not declare that you have none."),
    NP_("relative", "Your supplementary penalty must be completed first."),
    NP_("relative", "you were 18 or older when the offence was committed"),
    NP_("relative", "you have not been convicted of a new crime"),
    NP_("relative", "you completed the sentence on the last day of that month (tell me the day if you know it)"),
    NP_("relative", "you completed the sentence on 31/12 of that year"),
    NP_("relative", "I was under 18 then"),
    NP_("relative", "I had a new conviction"),
    NP_("relative", "With %(penalty)s, the record is cleared automatically %(wait)s after the end of probation, if "
                    "you commit no new crime in that time and the rest of the judgment (fees, compensation) is "
                    "carried out."),
    NP_("relative", "With %(penalty)s, the record is cleared automatically %(wait)s after the day you complete the "
                    "sentence (leave prison), if you commit no new crime in that time and the rest of the judgment "
                    "(fees, compensation) is carried out."),
    NP_("relative", "With %(penalty)s, the record is cleared automatically %(wait)s after the day you complete the "
                    "sentence, if you commit no new crime in that time and the rest of the judgment (fees, "
                    "compensation) is carried out."),
    NP_("relative", "Tell me the day you completed it and I will work out your date."),
)


# Kept between turns so that a correction recomputes: what the person said, what was assumed.
KEPT = ("exp_facts", "exp_assumed")
PENALTY_NAMES = {
    "prison": N_("a prison sentence of %(term)s"), "suspended": N_("a suspended sentence"),
    "non_custodial": N_("non-custodial reform"), "fine": N_("a fine"), "warning": N_("a warning"),
    "life": N_("life imprisonment"),
}


def answer_first_form(facts: dict[str, Any], correct: str | None = None) -> list[EventType]:
    """Run the form with what the person said and the usual assumptions for the
    rest (``correct``: the assumption to correct instead), so it asks only what
    no assumption can stand for (the sentence, the completion date) and answers."""
    values = dict(facts)
    if correct in CORRECTED:
        values.pop(correct, None)
        if CORRECTED[correct] is not None:
            values[correct] = CORRECTED[correct]
    assumed = [slot for slot in ASSUMED if values.get(slot) is None and slot != correct]
    values.update({slot: ASSUMED[slot] for slot in assumed})
    return [*(SlotSet(s, None) for s in SLOTS), *(SlotSet(k, v) for k, v in values.items()),
            SlotSet("exp_facts", {k: v for k, v in values.items() if k not in assumed}),
            SlotSet("exp_assumed", assumed), FollowupAction(FORM)]


def rule_answer(values: dict[str, Any], today: dt.date, locale: str) -> str | None:
    """The rule for the sentence said, before any date: "2 năm kể từ ngày chấp hành xong…"."""
    penalty = values.get("exp_penalty")
    if penalty not in PENALTY_NAMES or (penalty == "prison" and not values.get("exp_prison_term")):
        return None
    term = Period.parse(values["exp_prison_term"]) if penalty == "prison" else None
    # A national-security crime (Chương XIII/XXVI) is cleared by the court, after the Điều 71 period.
    court = bool(values.get("exp_special_chapter"))
    try:
        wait, table = waiting_period(KNOWLEDGE, penalty, term, today, court=court)
    except InvalidInput:
        return None
    what = gettext(PENALTY_NAMES[penalty], locale) % {"term": format_period(term, locale) if term else ""}
    # When the period starts, said for the sentence asked about (Điều 70 khoản 2: the
    # end of probation for a suspended sentence, release for a prison term).
    if court:
        rule = N_("For a national-security crime the record is not cleared automatically: with %(penalty)s, you "
                  "may apply to the court that tried the case at first instance %(wait)s after you complete the "
                  "sentence; the court decides.")
    elif penalty == "suspended":
        rule = N_("With %(penalty)s, the record is cleared automatically %(wait)s after the end of probation, if "
                  "you commit no new crime in that time and the rest of the judgment (fees, compensation) is "
                  "carried out.")
    elif penalty == "prison":
        rule = N_("With %(penalty)s, the record is cleared automatically %(wait)s after the day you complete the "
                  "sentence (leave prison), if you commit no new crime in that time and the rest of the judgment "
                  "(fees, compensation) is carried out.")
    else:
        rule = N_("With %(penalty)s, the record is cleared automatically %(wait)s after the day you complete the "
                  "sentence, if you commit no new crime in that time and the rest of the judgment (fees, "
                  "compensation) is carried out.")
    relative = bool(values.get("exp_relative"))
    lines = [said_of(rule, locale, relative) % {"penalty": what, "wait": format_period(wait, locale)},
             said_of("Tell me the day you completed it and I will work out your date.", locale, relative)]
    lines += caution_and_citation([table], today, locale)[-1:]
    return "\n".join(lines)


def _question_answer(dispatcher: CollectingDispatcher, question: Entry, today: dt.date, locale: str,
                     tracker: Tracker, facts: dict[str, Any] | None) -> list[EventType]:
    """A question entry's answer; every answer about expungement offers to work out
    the person's own date (with ``facts`` kept for it)."""
    offer = tuple(dict.fromkeys((*question.offer, "calc_expungement")))
    return [*utter_question(dispatcher, replace(question, offer=offer), today, locale, tracker),
            SlotSet("exp_facts", facts), SlotSet("exp_assumed", None)]


EXPUNGEMENT_ACTIONS = ("action_expungement_start", "action_expungement_result", FORM)
_LOAN_WORDS_RE = re.compile(r"\b(vay|von|ngan hang|lai suat|lai|tien)\b")


def date_after_expungement_answer(tracker: Tracker) -> bool:
    """A short message with only a date ("ra hồi tháng 8 năm 2022") right after an answer about expungement
    that kept a sentence without its completion (the rule for "6 năm", with the offer to work out the date):
    the missing date, whatever topic the classifier gave it (the release date reads like a loan check)."""
    latest = tracker.latest_message or {}
    text = fold(latest.get("text") or "")
    ents = entities_of(latest)
    kept = tracker.get_slot("exp_facts") or {}
    return (len(text.split()) <= 10 and bool(ents.get("date")) and not ents.get("money")
            and not _LOAN_WORDS_RE.search(text) and _facts_kept_by_last_answer(tracker)
            and bool(kept.get("exp_penalty")) and not (kept.get("exp_completed_on") or kept.get("exp_probation_end")))


def _facts_kept_by_last_answer(tracker: Tracker) -> bool:
    """The bot's answer to the previous message kept expungement facts (set ``exp_facts``), whichever
    action gave it ("6 năm" classified out of scope is answered by the expungement rule through the
    follow-up hooks)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == "exp_facts":
            return bool(event.get("value"))
    return False


def sentence_after_expungement_answer(tracker: Tracker) -> bool:
    """A short message with only another sentence ("còn nếu bị 9 năm thì sao?") right after an answer
    about expungement asks the same question for that sentence, whatever topic the classifier gave it."""
    latest = tracker.latest_message or {}
    text = fold(latest.get("text") or "")
    ents = entities_of(latest)
    return (len(text.split()) <= 10 and bool(ents.get("duration") or ents.get("penalty_type"))
            and not ents.get("money") and not ents.get("date") and not _LOAN_WORDS_RE.search(text)
            and last_bot_action(tracker) in EXPUNGEMENT_ACTIONS)


# Facts that alone are a question about a condition of the rule, not a story to calculate.
_CONDITION_ONLY = {"exp_other_done", "exp_special_chapter", "exp_intent"}
# Sent to a reform school (a judicial measure for a minor, not a penalty): no record (acceptance_fresh13).
_REFORM_SCHOOL_RE = re.compile(r"\btruong giao duong\b")
# "…đến năm 2025 lại bị kết án 1 năm tù về tội khác, vậy thời hạn của bản án trước tính thế nào": a new
# conviction told without both completion dates (two_convictions needs them) is the Điều 73 khoản 2
# question; a date worked out from the first sentence alone would be wrong.
_NEW_CONVICTION_RE = re.compile(r"\b(lai bi (ket an|xu|bat|tuyen|an)|pham toi moi|tai pham|ve toi khac"
                                r"|toi khac|ban an moi|an moi)\b")


class ActionExpungementStart(Action):
    """ask_expungement / calc_expungement, answer first: with the sentence and the
    completion date in the message, the date at once (assumptions stated, each
    correctable); with the sentence only, the rule for it and an offer to work
    out the date; without facts, the general answer and an offer to calculate."""

    def name(self) -> str:
        return "action_expungement_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        from actions.loans import answer_first_form as loan_answer_first, release_after_loan_answer
        if (loan_facts := release_after_loan_answer(tracker)) is not None:
            return loan_answer_first(loan_facts)  # "em ra tù 2023" right after a loan answer: the loan check
        today = today_in_vietnam()
        latest = tracker.latest_message or {}
        locale = tracker_locale(tracker)
        said = extract(latest, None, today)
        said.pop("exp_cancelled", None)
        if not said:
            # "bao lâu thì lấy được" right after the căn cước answer, read as expungement: a short
            # question about the previous answer's topic (actions.followups.context_question)
            from actions.followups import previous_answer_followup  # (it builds on this module)
            events = await previous_answer_followup(dispatcher, tracker, domain, sentence=False,
                                                    purpose_words=None, jobs=False)
            if events is not None:
                return events
        durations = entities_of(latest).get("duration") or []
        if (not said.get("exp_penalty") and len(durations) == 1 and not entities_of(latest).get("date")
                and sentence_after_expungement_answer(tracker)):
            # "6 năm" typed after the answer that asked for "mức án và ngày chấp hành xong": a prison term
            said.update(exp_penalty="prison", exp_prison_term=str(durations[0]))
        pressed = (latest.get("intent") or {}).get("name") == "calc_expungement"
        typed = not pressed and bool(_CALC_RE.search(fold(latest.get("text") or "")))
        wants_calculation = pressed or typed
        correct = (entities_of(latest).get("recheck") or [None])[-1]
        kept = dict(tracker.get_slot("exp_facts") or {})
        new_story = said.get("exp_penalty") and (said.get("exp_completed_on") or said.get("exp_probation_end"))
        if not wants_calculation and (new_story or not said):
            kept = {}  # a whole new story, or a general question: nothing earlier counts
        facts = {**kept, **said}  # else a correction or the missing fact ("à nhầm, tù 7 năm", "ra tù 01/06/2023")
        if correct in CORRECTED and kept:
            return answer_first_form(facts, correct)
        dated = facts.get("exp_completed_on") or facts.get("exp_probation_end")
        term = facts.get("exp_prison_term")
        age = facts.get("exp_age_group")
        age_years = age if isinstance(age, int) else _age_years(age, today) if age is not None else None
        no_record = bool(facts.get("exp_article")) and leaves_no_record(
            KNOWLEDGE, str(facts["exp_article"]), facts.get("exp_clause"), Period.parse(term) if term else None,
            today, age_years)
        minor = (age in ("minor", "child")
                 or isinstance(age, int) and age < KNOWLEDGE.value("blhs.adult_age", today))
        question = chosen_question(tracker, today)
        if (question is not None and question.named_in(latest.get("text") or "") and not term and not dated
                and not wants_calculation and not minor):
            # "bị phạt tù trên 15 năm thì bao lâu…": a range the law names, not the person's term
            return _question_answer(dispatcher, question, today, locale, tracker, None)
        if facts.get("exp_penalty") and not dated and not wants_calculation and not no_record and not minor:
            if (text := rule_answer(facts, today, locale)) is not None:
                dispatcher.utter_message(text=text, buttons=[
                    {"title": gettext("Calculate my date", locale), "payload": "/calc_expungement"}])
                return [SlotSet("exp_facts", facts), SlotSet("exp_assumed", None)]
        young = (age == "child"
                 or isinstance(age, int) and age < KNOWLEDGE.value("blhs.d107.no_record_below_age", today))
        if facts.get("exp_penalty") and not dated and not wants_calculation and not no_record and minor and not young:
            # "phạm tội lúc 17 tuổi, bị 3 năm tù thì bao lâu…": the Điều 107 rule first (it depends on the
            # crime's class, which the answer states), then the date on request, with these facts kept.
            if question is not None and question.prison_years is not None:
                # an adult range's rule would be wrong for an offence at 16–17 (Điều 107)
                question = KNOWLEDGE.entry("xat.minor_16_17", today)
            if question is not None and question.id.startswith("xat."):
                return _question_answer(dispatcher, question, today, locale, tracker, facts)
        if (question is not None and not dated and not term and not wants_calculation and said
                and set(said) <= {"exp_penalty", *_CONDITION_ONLY} and said.get("exp_penalty") == "prison"):
            # "đã xóa án tích thì xin việc có phải khai từng đi tù không": "đi tù" names no sentence to work
            # out; the question asked is answered first, with the offer to calculate
            return _question_answer(dispatcher, question, today, locale, tracker, said)
        if (not wants_calculation and not said.get("exp_new_completed_on")
                and _NEW_CONVICTION_RE.search(fold(latest.get("text") or ""))
                and not adult_after_childhood(latest.get("text") or "", today)):
            return _question_answer(dispatcher, KNOWLEDGE.entry("xat.new_crime", today), today, locale, tracker,
                                    {**said, "exp_new_crime": True})
        if (said.get("exp_other_done") is False and not said.get("exp_penalty") and not wants_calculation
                and not minor):
            # "ra tù 3 năm rồi mà chưa trả tiền bồi thường thì có được xóa án tích không": the condition asked
            # about is the answer (not yet), before any question about the sentence
            return _question_answer(dispatcher, KNOWLEDGE.entry("xat.unpaid_obligations", today), today, locale,
                                    tracker, said)
        if (not said.get("exp_penalty") and not wants_calculation
                and _REFORM_SCHOOL_RE.search(fold(latest.get("text") or ""))):
            # "năm ngoái bị tòa đưa vào trường giáo dưỡng, có bị tính là có án tích không": a judicial measure,
            # no penalty, no record (BLHS Điều 107 khoản 1); there is no sentence to ask for
            return _question_answer(dispatcher, KNOWLEDGE.entry("xat.minor_under_16", today), today, locale,
                                    tracker, None)
        if facts.get("exp_penalty") or dated or (wants_calculation and kept):
            return answer_first_form(facts)
        if question is not None and said and not wants_calculation and set(said) <= _CONDITION_ONLY:
            # "chưa bồi thường xong thì có được xóa án tích ko": a condition asked about, not a case to
            # calculate; the rule first, the condition kept for the calculation offered with it
            return _question_answer(dispatcher, question, today, locale, tracker, said)
        # a specific question, no case facts: its answer (issue 14)
        if question is not None and not said and not wants_calculation:
            return _question_answer(dispatcher, question, today, locale, tracker, None)
        if said or wants_calculation:
            # the button, typed ("tính giúp em ngày xóa án tích") or with facts: the usual assumptions, stated
            # with the answer (each with a button to correct it); only the sentence and the date are asked, in
            # one message (issue 14 point 2: at most one question before the first useful answer)
            if not said:
                dispatcher.utter_message(text=gettext(
                    "I will work out when your criminal record is cleared. You can tell me the sentence and the "
                    "day you completed it in one message (for example: 3 years in prison, released 01/06/2023).",
                    locale))
            return answer_first_form(said)
        events = utter_entries(dispatcher, KNOWLEDGE.entries_for("ask_expungement", today, latest.get("text") or ""),
                               today, locale, [{"title": gettext("Calculate my date", locale),
                                                "payload": "/calc_expungement"}], tracker=tracker)
        return [*events, SlotSet("exp_facts", None), SlotSet("exp_assumed", None)]


class ActionExpungementResult(CalculationResult):
    slots = SLOTS
    cancel_slot = "exp_cancelled"
    covers = ("xat.",)

    def name(self) -> str:
        return "action_expungement_result"

    def messages(self, tracker: Tracker, today: dt.date, locale: str) -> list[str]:
        slots = dict(tracker.slots)
        result = calculate(case_from_slots(slots, today), KNOWLEDGE, today)
        return [short_result_text(result, assumed_used(slots, today) + month_only(slots), today, locale,
                                  bool(slots.get("exp_relative")))]

    def details(self, tracker: Tracker, today: dt.date, locale: str) -> str:
        """The whole explanation: periods, the counting rule, cautions."""
        slots = dict(tracker.slots)
        return result_text(calculate(case_from_slots(slots, today), KNOWLEDGE, today), today, locale,
                           bool(slots.get("exp_relative")))

    def offer(self, tracker: Tracker, today: dt.date, locale: str) -> tuple[list[dict[str, str]], list[EventType]]:
        """Buttons to correct each assumption, and for an enrolled
        supervisee with a date still to come, to be congratulated on it. The
        form's answers are kept in ``exp_last_case`` so that the date is
        recomputed when that button is pressed."""
        slots = dict(tracker.slots)
        result = calculate(case_from_slots(slots, today), KNOWLEDGE, today)
        assumed = assumed_used(slots, today)
        buttons = [{"title": said_of(CORRECTION_BUTTONS[a], locale, bool(slots.get("exp_relative"))),
                    "payload": '/calc_expungement{"recheck": "%s"}' % a} for a in assumed]
        kept: list[EventType] = [SlotSet("exp_facts", {k: v for k, v in case_inputs(slots).items()
                                                       if k not in (slots.get("exp_assumed") or [])}
                                         | {k: slots[k] for k in INFO_SLOTS if slots.get(k) is not None}),
                                 SlotSet("exp_assumed", slots.get("exp_assumed"))]
        inputs = case_inputs(slots)
        nothing = [SlotSet("exp_last_case", None)]  # an older calculation's button no longer counts
        if milestone_date(inputs, today) is None:
            return buttons, [*kept, *nothing]
        _, sessions = database()
        with sessions() as s:
            person = person_for_identity(s, tracker.sender_id)
        if person is None or person.role != "supervisee":
            return buttons, [*kept, *nothing]
        return ([{"title": gettext("Remind me on that day", locale), "payload": "/remember_milestone"}, *buttons],
                [*kept, SlotSet("exp_last_case", inputs)])


def month_only(slots: dict[str, Any]) -> list[str]:
    """A completion known to the month only counts as the month's last day (the later, safer
    date, actions.common.day_of): an assumption to state."""
    # With a later conviction the date counts from the new sentence's completion (Điều 73
    # khoản 2): how precisely the first one was said changes nothing.
    key = "exp_probation_end" if slots.get("exp_early_release") else "exp_completed_on"
    date = str(slots.get("exp_new_completed_on") or slots.get(key) or "")
    if re.fullmatch(r"\d{4}", date):
        return ["year_only"]
    return ["month_only"] if re.fullmatch(r"\d{4}-\d{2}", date) else []


def assumed_used(slots: dict[str, Any], today: dt.date) -> list[str]:
    """The assumptions the answer rests on: those the calculator would ask
    about if they were not assumed."""
    used = []
    for slot in slots.get("exp_assumed") or []:
        if slot in ASSUMED and slots.get(slot) == ASSUMED[slot] \
                and slot in still_needed({**slots, slot: None, "requested_slot": None}, today):
            used.append(slot)
    return used


def case_inputs(slots: dict[str, Any]) -> dict[str, Any]:
    """The slots the calculator reads (nothing else of the conversation)."""
    return {k: slots.get(k) for k in (*SLOT_FOR.values(), "exp_supplementary_until") if slots.get(k) is not None}


def milestone_date(inputs: dict[str, Any] | None, today: dt.date) -> dt.date | None:
    """The date worth a congratulation: the record is cleared automatically, or
    the court may be asked, on a day still to come, with nothing blocking it."""
    if not inputs:
        return None
    try:
        r = calculate(case_from_slots(inputs, today), KNOWLEDGE, today)
    except (InvalidInput, ValueError):
        return None
    if r.route not in ("automatic", "court") or r.blocking or r.date is None or r.date <= today:
        return None
    return r.date


def remember_milestone(s: Session, identity_id: str, inputs: dict[str, Any] | None, today: dt.date,
                       now: dt.datetime | None = None) -> tuple[str, dt.date | None]:
    """Store the expungement date for the person of this chat, recomputed from
    the calculator's inputs (never taken from a message). Returns a status
    ("saved", "not_enrolled", "no_date") and the date."""
    person = person_for_identity(s, identity_id)
    if person is None or person.role != "supervisee":
        return "not_enrolled", None
    day = milestone_date(inputs, today)
    if day is None:
        return "no_date", None
    now = now or utcnow()
    s.execute(insert_for(s)(Milestone).values(person_id=person.id, kind="expungement", on_date=day, created_at=now)
              .on_conflict_do_update(index_elements=["person_id", "kind"], set_={"on_date": day, "created_at": now}))
    audit(s, f"person:{person.id}", "remember_milestone", person.id, kind="expungement")
    return "saved", day


class ActionRememberMilestone(Action):
    def name(self) -> str:
        return "action_remember_milestone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        locale = tracker_locale(tracker)
        _, sessions = database()
        with sessions.begin() as s:
            status, day = remember_milestone(s, tracker.sender_id, tracker.get_slot("exp_last_case"),
                                             today_in_vietnam())
        if status == "saved":
            dispatcher.utter_message(text=gettext(
                "Saved. I will write to you on %(date)s. Only this date is kept in your file, nothing about "
                "the judgment.", locale) % {"date": format_date(day, locale)})
        elif status == "not_enrolled":
            dispatcher.utter_message(text=gettext(
                "Date reminders are for people registered with their officer.", locale))
        else:
            dispatcher.utter_message(
                text=gettext("I have no date to remember yet. Please calculate your date first.", locale),
                buttons=[{"title": gettext("Calculate my date", locale), "payload": "/calc_expungement"}])
        return [SlotSet("exp_last_case", None)]


NO_RECORD_REASONS = {
    "negligent_light": N_("A crime committed through negligence that is less serious or serious (for example "
                          "a traffic death under clause 1 of Article 260) leaves no criminal record "
                          "(Article 69, clause 2)."),
    "exempt": N_("A person exempted from penalty has no criminal record (Article 69, clause 2)."),
    "minor_under_16": N_("An offence committed before the age of %(young)s leaves no criminal record "
                         "(Article 107, clause 1)."),
    "minor_not_serious": N_("An offence committed under %(adult)s that is not very serious and intentional, nor "
                            "especially serious, leaves no criminal record (Article 107, clause 1)."),
}
NOTES = {
    "restarted_by_new_crime": N_("Because of the new crime, the waiting period counts again from the day the "
                                 "new sentence was completed, and all records clear together (Article 73, "
                                 "clause 2)."),
    "mixed_routes": N_("Because one of the crimes is a national-security crime, the court decides for all of "
                       "them, with the periods of Article 71 (Article 73, clause 3)."),
    "minor_rules": N_("For an offence committed under %(adult)s the only condition is no new crime; unpaid "
                      "compensation does not stop it (Article 107, clause 2)."),
    "probation_running": N_("Your probation has not ended yet: the period counts from its last day. On "
                            "conditional early release, completion is the end of probation."),
}
ASSUMPTIONS = {
    "intentional": N_("I assumed the crime was intentional. If it was through negligence (for example a "
                      "traffic accident), tell me the article: a less serious or serious negligent crime "
                      "leaves no record."),
    "negligent_class_unknown": N_("If the clause you were sentenced under makes the crime less serious or "
                                  "serious (by its heaviest penalty, Article 9), a crime through negligence "
                                  "leaves no record at all: tell me the article and clause (they are in the "
                                  "judgment)."),
    "heaviest_clause": N_("I assumed the heavier clause of the article, because the clause is not known. "
                          "Please check the judgment."),
    "new_minor_serious": N_("For the new crime I assumed it was very serious or especially serious. If not, "
                            "the result may be better: ask the commune police."),
}


def _said(msgid: str, today: dt.date, locale: str) -> str:
    """A catalog text, with the ages of the rules valid today filled in."""
    return gettext(msgid, locale) % {"young": KNOWLEDGE.value("blhs.d107.no_record_below_age", today),
                                     "adult": KNOWLEDGE.value("blhs.adult_age", today)}


SHORT = 500  # characters: the first bubble on a phone (issue 14)
CERTIFICATE_NOW_CLEAN = N_("A criminal record certificate no. 1 should now say \"no criminal record\".")


def short_result_text(r: Result, assumed: list[str], today: dt.date, locale: str, relative: bool = False) -> str:
    """The answer for a phone: the date, what it assumes, the basis in one line;
    the notes that explain it (a new crime, probation still running, a record
    until then) while they fit in SHORT characters; the rest, from result_text,
    behind "Xem chi tiết"."""
    full = result_text(r, today, locale, relative).split("\n")
    lines = full[:2] if r.route == "no_record" else full[:1]
    if "supplementary_running" in r.blocking:
        lines.append(said_of("Your supplementary penalty must be completed first.", locale, relative))
    if r.route == "automatic" and r.date is not None and r.date > today:
        # the first line already says "if you commit no new crime before then" (its button stays)
        assumed = [a for a in assumed if a != "exp_new_crime"]
    if assumed:
        lines.append(gettext("This assumes that %(assumptions)s. If not, tap the button that applies.", locale)
                     % {"assumptions": "; ".join(said_of(ASSUMPTION_PHRASES[a], locale, relative) for a in assumed)})
    citation = full[-1]  # "Căn cứ: …"
    optional = [_said(NOTES[n], today, locale) for n in r.notes if n in NOTES and n != "restarted_by_new_crime"]
    if r.route != "no_record" and r.date is not None and r.date > today:
        optional.append(said_of("Until then you still have a criminal record: on forms, do not declare that "
                                "you have none.", locale, relative))
    certificate = gettext(CERTIFICATE_NOW_CLEAN, locale)
    if certificate in full:  # what the certificate says now: first among the notes, when it fits
        optional.append(certificate)
    if "restarted_by_new_crime" in r.notes:  # two judgments: say why the later one sets the date, first when it fits
        optional.insert(0, gettext("Because of the new crime, the period counts from the completion of the new "
                                   "sentence (Article 73, clause 2).", locale))
    for line in optional:
        if len("\n".join([*lines, line, citation])) <= SHORT:
            lines.insert(1, line)
    return "\n".join([*lines, citation])


def result_text(r: Result, today: dt.date, locale: str, relative: bool = False) -> str:
    def d(day: dt.date) -> str:
        return format_date(day, locale)

    lines: list[str] = []
    if r.route == "no_record":
        lines.append(said_of("From what you told me, you are not considered to have a criminal record.", locale,
                             relative))
        for reason in dict.fromkeys(r.no_record_reasons):
            if reason in NO_RECORD_REASONS:
                lines.append(_said(NO_RECORD_REASONS[reason], today, locale))
    elif r.route == "not_yet":
        lines.append(said_of(
            "Not cleared yet: the record cannot be cleared until the other decisions of the judgment "
            "(compensation, court fees, fines) are carried out. The waiting period of %(wait)s ends on %(end)s.", locale,
            relative)
            % {"wait": format_period(r.wait, locale), "end": d(r.period_end)})
    elif r.route == "court":
        lines.append(said_of(
            "For this crime the record is cleared by the court: you may apply to the court that tried the "
            "case from %(date)s (waiting period %(wait)s).", locale, relative)
            % {"date": d(r.date), "wait": format_period(r.wait, locale)})
    elif r.date and r.date <= today:
        lines.append(said_of(
            "Your record was cleared automatically on %(date)s (waiting period %(wait)s, ended on %(end)s).", locale,
            relative)
            % {"date": d(r.date), "wait": format_period(r.wait, locale), "end": d(r.period_end)})
        lines.append(gettext(CERTIFICATE_NOW_CLEAN, locale))
    else:
        lines.append(said_of(
            "Your record will be cleared automatically on %(date)s (waiting period %(wait)s, ending on "
            "%(end)s), if you commit no new crime before then.", locale, relative)
            % {"date": d(r.date), "wait": format_period(r.wait, locale), "end": d(r.period_end)})
    if r.route != "no_record":
        if r.date is not None and r.date > today:
            lines.append(said_of("Until then you still have a criminal record: on forms, do not declare that "
                                 "you have none.", locale, relative))
        for reason in dict.fromkeys(r.no_record_reasons):
            if reason in NO_RECORD_REASONS:
                lines.append(gettext("An earlier conviction leaves no record by itself: %(why)s", locale)
                             % {"why": _said(NO_RECORD_REASONS[reason], today, locale)})
        for note in r.notes:
            if note in NOTES:
                lines.append(_said(NOTES[note], today, locale))
    for assumption in r.assumptions:
        if assumption in ASSUMPTIONS:
            lines.append(gettext(ASSUMPTIONS[assumption], locale))
    if "supplementary_longer" in r.notes:
        lines.append(gettext("The date follows the end of your supplementary penalty, which lasts longer.", locale))
    if "supplementary_running" in r.blocking:
        lines.append(said_of("Your supplementary penalty must be completed first.", locale, relative))
    if r.early_date and r.early_date > today:
        lines.append(gettext("With clear progress and a merit, you may ask the court earlier, from %(date)s.", locale)
                     % {"date": d(r.early_date)})
    rule = KNOWLEDGE.render(KNOWLEDGE.entry("expungement.counting_rule", today), today, formatters(locale))
    if r.route != "no_record":
        lines.append(rule.text)
        if not rule.verified:  # the counting rule is an interpretation: say whom to ask
            lines.append(gettext("Some of this is not fully verified: please confirm with %(office)s.", locale)
                         % {"office": rule.confirm_with})
    closing = caution_and_citation(r.facts, today, locale,
                                   tail=rule.entry.sources if r.route != "no_record" else ())
    lines += closing if rule.verified or r.route == "no_record" else closing[-1:]
    return "\n".join(lines)


# --- an expungement question typed in the middle of another form (issue 14) -------------------
# "em bị 3 năm tù, ra tù 01/06/2023, bao giờ được xóa án tích?" typed while the loan pre-check
# waits for the completion date holds a date, but it asks about the criminal record: it is
# answered as that question (computed when it carries the facts), and the form asks again.
_RECORD_RE = re.compile(r"\ban tich\b|\bly lich tu phap\b")
_LOAN_RE = re.compile(r"\b(vay|von vay|ngan hang)\b")
RECORD_INTENTS = ("ask_expungement", "calc_expungement", "ask_criminal_record")


def asks_about_record(message: dict) -> bool:
    """Does this message ask about the criminal record (not about a loan)? A bare
    date or "ra tù tháng 6 năm ngoái" does not: it answers the form's question."""
    folded = fold(message.get("text") or "")
    intent = (message.get("intent") or {}).get("name")
    return intent in RECORD_INTENTS and bool(_RECORD_RE.search(folded)) and not _LOAN_RE.search(folded)


def story_answer(dispatcher: CollectingDispatcher, tracker: Tracker, today: dt.date,
                 locale: str, certificate: bool = False) -> list[EventType] | None:
    """The expungement date worked out from the facts in the latest message, said the
    way the calculator says it after its form (assumptions stated, each correctable,
    the details behind "Xem chi tiết"), without leaving the form that is running.
    None when the message does not carry a whole story (the sentence and the date)
    or the calculator would still need to ask something. With ``certificate`` (a
    question about the criminal record certificate), a first short bubble says what
    certificate no. 1 shows, and from when, on that date."""
    said = extract(tracker.latest_message or {}, None, today)
    said.pop("exp_cancelled", None)
    if not (said.get("exp_penalty") and (said.get("exp_completed_on") or said.get("exp_probation_end"))):
        return None
    events = answer_first_form(said)[:-1]  # the slots the form would start with, not the form itself
    values = {**dict(tracker.slots), **{e["name"]: e["value"] for e in events if e.get("event") == "slot"}}
    values["requested_slot"] = None
    done = completion_day(values.get("exp_probation_end" if values.get("exp_early_release") else "exp_completed_on"))
    if done is None or (done > today and values.get("exp_penalty") != "suspended"):
        return None
    try:
        if still_needed(values, today):
            return None
        view = tracker.copy()
        view.slots = values
        result = ActionExpungementResult()
        messages = result.messages(view, today, locale)
        buttons, kept = result.offer(view, today, locale)
        details = result.details(view, today, locale)
        lead = certificate_line(calculate(case_from_slots(values, today), KNOWLEDGE, today), today, locale) \
            if certificate else None
    except (InvalidInput, ValueError):
        return None
    if lead is not None:   # said first; not again among the date's notes
        said = gettext(CERTIFICATE_NOW_CLEAN, locale)
        messages = [lead, *("\n".join(line for line in m.split("\n") if line != said) for m in messages)]
    return [*kept, *answer_with_details(dispatcher, tracker, messages, details, buttons=buttons, locale=locale)]


# The certificate's rule: Luật LLTP 2009 Điều 42 (no. 1 shows only records not cleared), as the
# knowledge entry on it says; its citation is taken from there.
CERTIFICATE_ENTRY = "lltp.no1_after_expunged"


def certificate_line(r: Result, today: dt.date, locale: str) -> str | None:
    """What criminal record certificate no. 1 shows for this result: "không có án tích"
    now, from a date to come, or until a court decides; None when the result needs more."""
    try:
        citation = caution_and_citation([], today, locale, lead=KNOWLEDGE.entry(CERTIFICATE_ENTRY, today).sources)[-1]
    except KeyError:
        citation = ""
    if r.route == "no_record":
        text = gettext("From what you told me, there is no criminal record to show: certificate no. 1 says "
                       "\"no criminal record\".", locale)
    elif r.route == "automatic" and r.date is not None and not r.blocking and r.date <= today:
        text = gettext("From what you told me, the record was cleared on %(date)s, so certificate no. 1 now says "
                       "\"no criminal record\" (certificate no. 2 still lists the judgment).", locale) \
            % {"date": format_date(r.date, locale)}
    elif r.route == "automatic" and r.date is not None and not r.blocking:
        text = gettext("From what you told me, certificate no. 1 still shows the conviction until %(end)s; from "
                       "%(date)s, if you commit no new crime, it says \"no criminal record\".", locale) \
            % {"date": format_date(r.date, locale), "end": format_date(r.period_end or r.date, locale)}
    elif r.route in ("automatic", "court", "not_yet"):
        text = gettext("From what you told me, certificate no. 1 still shows the conviction until the record is "
                       "cleared.", locale)
    else:
        return None
    return f"{text}\n{citation}" if citation else text
