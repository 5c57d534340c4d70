"""``python -m bot admin …``: the administrators' command line.

Fixed contracts (other tools rely on them): ``add-commune NAME``; ``add-person
--role … --name … --commune NAME [--mentor PERSON_ID]`` prints the new id as its
last line; ``enroll-code PERSON_ID`` prints the code as its last line.
``set-password PERSON_ID`` reads an admin's staff-console password from stdin.
``set-legal-status PERSON_ID --status … [--until YYYY-MM-DD]`` confirms who has a
legal duty to report; ``list-people --needs-confirmation`` lists those still to confirm. The
database is ``DATABASE_URL``, as for the running product. Help is in the
locale of ``LOIVE_LOCALE`` (Vietnamese by default, ``en`` for English).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from sqlalchemy import func, select

from bot.supervision import conversations, enrollment, people, privacy, reminders
from bot.supervision.alerts import REASON_CODES, act_on_alert
from bot.config import load_settings
from bot.i18n import format_date, gettext
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.migrate import upgrade
from vietnamese.clock import utcnow
from bot.storage.models import LEGAL_STATUSES, OUTBOX_STATUSES, ROLES, SCHEDULE_KINDS, OutboxMessage

ACTOR = "cli"


def parser(locale: str) -> argparse.ArgumentParser:
    _ = lambda text: gettext(text, locale)  # noqa: E731  (extracted by Babel as `_`)
    ap = argparse.ArgumentParser(prog="python -m bot admin", description=_("Administer Lối Về: communes, people, "
                                                                           "enrollment codes, alerts, data."))
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    c = sub.add_parser("add-commune", help=_("add a commune"))
    c.add_argument("name", metavar="NAME", help=_("commune name"))
    p = sub.add_parser("add-person", help=_("add a person; prints the new id last"))
    p.add_argument("--role", required=True, choices=ROLES, help=_("role (admins get the scheduler's alerts)"))
    p.add_argument("--name", required=True, help=_("display name"))
    p.add_argument("--commune", required=True, help=_("commune name"))
    p.add_argument("--mentor", metavar="PERSON_ID", help=_("mentor of this supervisee"))
    p.add_argument("--legal-status", choices=LEGAL_STATUSES,
                   help=_("supervisee: the community sentence served, or completed (default: unconfirmed)"))
    p.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help=_("last day of the community sentence"))
    ls = sub.add_parser("set-legal-status", help=_("confirm a supervisee's legal status (who must report)"))
    ls.add_argument("person_id", metavar="PERSON_ID")
    ls.add_argument("--status", required=True, choices=LEGAL_STATUSES, help=_("legal status"))
    ls.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help=_("last day of the community sentence"))
    e = sub.add_parser("enroll-code", help=_("issue a one-time enrollment code; prints it last"))
    e.add_argument("person_id", metavar="PERSON_ID")
    m = sub.add_parser("assign-mentor", help=_("assign a mentor to a supervisee"))
    m.add_argument("supervisee_id", metavar="SUPERVISEE_ID")
    m.add_argument("mentor_id", metavar="MENTOR_ID")
    m.add_argument("--visit-days", type=int, default=30, help=_("remind the mentor to visit every N days"))
    sc = sub.add_parser("set-schedule", help=_("set a supervisee's check-in schedule"))
    sc.add_argument("person_id", metavar="PERSON_ID")
    sc.add_argument("--kind", required=True, choices=SCHEDULE_KINDS, help=_("schedule kind"))
    sc.add_argument("--weekday", type=int, help=_("weekly: 0 = Monday … 6 = Sunday"))
    sc.add_argument("--day", type=int, dest="day_of_month", help=_("monthly: day of the month (1–28)"))
    sc.add_argument("--window-days", type=int, default=1, help=_("monthly_window: days at the start of the month"))
    sc.add_argument("--grace-hours", type=int, default=24, help=_("hours of grace before a check-in counts as missed"))
    lp = sub.add_parser("list-people", help=_("list people"))
    lp.add_argument("--commune", help=_("commune name"))
    lp.add_argument("--role", choices=ROLES, help=_("role"))
    lp.add_argument("--needs-confirmation", action="store_true",
                    help=_("only supervisees whose legal status an officer must still confirm"))
    la = sub.add_parser("list-alerts", help=_("list alerts"))
    la.add_argument("--status", default="open", help=_("alert status (open, acknowledged, excused, resolved; all)"))
    al = sub.add_parser("alert", help=_("acknowledge, excuse or resolve an alert, with a reason"))
    al.add_argument("alert_id", type=int, metavar="ALERT_ID")
    al.add_argument("--status", required=True, choices=["acknowledged", "excused", "resolved"], help=_("new status"))
    al.add_argument("--reason", required=True, choices=REASON_CODES, help=_("reason code"))
    al.add_argument("--by", required=True, metavar="PERSON_ID", help=_("the officer or mentor acting"))
    od = sub.add_parser("on-duty", help=_("mark staff on duty for crisis handovers from people not enrolled"))
    od.add_argument("person_id", metavar="PERSON_ID")
    od.add_argument("--off", action="store_true", help=_("take them off duty"))
    ex = sub.add_parser("export", help=_("print everything stored about one person, as JSON"))
    ex.add_argument("person_id", metavar="PERSON_ID")
    sub.add_parser("status", help=_("scheduler heartbeat and outbox counts"))
    pw = sub.add_parser("set-password", help=_("set an administrator's password for the staff console "
                                                "(read from standard input)"))
    pw.add_argument("person_id", metavar="PERSON_ID")
    er = sub.add_parser("erase", help=_("erase one person's personal data"))
    er.add_argument("person_id", metavar="PERSON_ID")
    er.add_argument("--yes", action="store_true", help=_("confirm the erasure"))
    return ap


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def main(argv: list[str]) -> int:
    settings = load_settings()
    locale = settings.locale
    args = parser(locale).parse_args(argv)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    try:
        with sessions.begin() as s:
            return _run(args, s, settings, locale)
    except (people.NotFound, people.Invalid) as exc:
        print(gettext("error: %(message)s", locale) % {"message": exc.text(locale)}, file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def responsiveness_line(s, settings, now, locale: str, commune_ids: list[int] | None = None) -> str:  # noqa: ANN001
    """Requests for a person over the last 7 days: how fast staff answered (bot.supervision.conversations)."""
    within = settings.relay_answer_within_minutes
    r = conversations.responsiveness(s, now - dt.timedelta(days=7), now, dt.timedelta(minutes=within), commune_ids)
    median = "-" if r.median_s is None else f"{r.median_s / 60:.0f}"
    return gettext("requests for a person (7 days): %(n)d; median time to first reply %(median)s min; not answered "
                   "within %(within)d min: %(late)d", locale) % {"n": r.requests, "median": median, "within": within,
                                                                  "late": r.unanswered}


def _run(args: argparse.Namespace, s, settings, locale: str) -> int:  # noqa: ANN001
    if args.command == "add-commune":
        print(people.add_commune(s, args.name, ACTOR).id)
    elif args.command == "add-person":
        p = people.add_person(s, args.role, args.name, args.commune, ACTOR, mentor_id=args.mentor,
                              legal_status=args.legal_status, legal_duty_until=args.until)
        print(p.id)
    elif args.command == "set-legal-status":
        p = people.set_legal_status(s, args.person_id, args.status, args.until, ACTOR)
        print(f"{p.id}\t{p.legal_status}\t{p.legal_duty_until.isoformat() if p.legal_duty_until else '-'}")
    elif args.command == "enroll-code":
        issued = enrollment.issue_enrollment_code(s, args.person_id, settings.secret(), settings.enroll_code_days, ACTOR)
        print(gettext("Valid until %(date)s, once.", locale) % {"date": format_date(issued.expires_at.date(), locale)})
        if settings.telegram_bot_username:
            print(f"https://t.me/{settings.telegram_bot_username}?start={issued.code}")
        print(issued.code)
    elif args.command == "assign-mentor":
        people.assign_mentor(s, args.supervisee_id, args.mentor_id, ACTOR, visit_every_days=args.visit_days)
    elif args.command == "set-schedule":
        people.set_schedule(s, args.person_id, args.kind, ACTOR, weekday=args.weekday,
                            day_of_month=args.day_of_month, window_days=args.window_days,
                            grace_hours=args.grace_hours)
    elif args.command == "list-people":
        for p in people.list_people(s, ACTOR, args.commune, args.role):
            if args.needs_confirmation and p.legal_status != "unconfirmed":
                continue
            status = ""
            if p.role == "supervisee":
                status = "\t" + (gettext("legal status: needs officer confirmation", locale)
                                 if p.legal_status in (None, "unconfirmed") else
                                 f"{p.legal_status}" + (f" → {p.legal_duty_until.isoformat()}"
                                                        if p.legal_duty_until else ""))
            print(f"{p.id}\t{p.role}\t{p.display_name}{status}")
    elif args.command == "list-alerts":
        for a in people.list_alerts(s, ACTOR, None if args.status == "all" else args.status):
            print(f"{a.id}\t{a.status}\t{a.severity}\t{a.type}\t{a.person_id}\t{a.created_at.isoformat()}")
    elif args.command == "alert":
        a = act_on_alert(s, args.alert_id, args.status, args.reason, args.by)
        print(f"{a.id}\t{a.status}\t{a.reason_code}")
    elif args.command == "status":
        at = reminders.last_beat(s)
        age = None if at is None else int((utcnow() - at).total_seconds())
        print(gettext("scheduler: last tick %(age)s s ago", locale) % {"age": "-" if age is None else age}
              + ("" if age is not None and age < reminders.STALLED_AFTER.total_seconds()
                 else " " + gettext("(STALLED)", locale)))
        counts = dict(s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        print("outbox: " + " ".join(f"{k}={counts.get(k, 0)}" for k in OUTBOX_STATUSES))
        print(responsiveness_line(s, settings, utcnow(), locale))
        return 0 if age is not None and age < reminders.STALLED_AFTER.total_seconds() else 1
    elif args.command == "on-duty":
        p = people.set_on_duty(s, args.person_id, not args.off, ACTOR)
        print(f"{p.id}\t{'on' if p.on_duty else 'off'}")
    elif args.command == "set-password":
        import getpass

        from bot.console.auth import set_password

        password = getpass.getpass(gettext("Password: ", locale)) if sys.stdin.isatty() else sys.stdin.readline()
        set_password(s, args.person_id, password.rstrip("\n"), ACTOR)
        print(gettext("Password set.", locale))
    elif args.command == "export":
        print(json.dumps(privacy.export_person(s, args.person_id, ACTOR), ensure_ascii=False, indent=1))
    elif args.command == "erase":
        if not args.yes:
            print(gettext("This erases the person's personal data for good. Run again with --yes to confirm.",
                          locale), file=sys.stderr)
            return 2
        counts = privacy.erase_person(s, args.person_id, ACTOR)
        print(gettext("Erased: %(checkins)d check-ins, %(channels)d chat links. Kept: the access log.", locale)
              % counts)
    return 0
