"""Names the console shows for stored codes (translated in the templates)."""

from __future__ import annotations

from bot.i18n import N_

ROLES = {"supervisee": N_("Supervisee"), "mentor": N_("Mentor"), "officer": N_("Commune officer"),
         "admin": N_("Administrator")}
LEGAL_STATUSES = {
    "unconfirmed": N_("Not confirmed yet"),
    "suspended": N_("Suspended sentence"),
    "non_custodial": N_("Non-custodial reform"),
    "early_release": N_("Conditional early release"),
    "probation_supervision": N_("Probation (quản chế)"),
    "completed": N_("Sentence completed"),
}
REASONS = {
    "contacted": N_("Contacted them"),
    "visited": N_("Visited them"),
    "help_arranged": N_("Help arranged"),
    "excused_health": N_("Excused: health"),
    "excused_work": N_("Excused: work"),
    "excused_other": N_("Excused: other"),
    "false_alarm": N_("False alarm"),
    "other": N_("Other"),
}
ALERT_STATUSES = {"open": N_("Needs attention"), "acknowledged": N_("Seen"), "excused": N_("Excused"),
                  "resolved": N_("Resolved")}
ALERT_TYPES_SHORT = {"worrying_checkin": N_("Worrying check-in"), "missed_checkin": N_("Missed check-in"),
                     "unreachable": N_("Unreachable"), "crisis": N_("Crisis"), "handover": N_("Asks for a person"),
                     "distress": N_("Hard time")}
NEEDS = {"nothing": N_("Nothing"), "job": N_("Job"), "loan": N_("Loan"), "papers": N_("Papers"),
         "housing": N_("Housing"), "health": N_("Health"), "urgent": N_("Urgent help")}
ACTIVITY = {"working": N_("Working"), "looking": N_("Looking for work"), "studying": N_("Studying"),
            "other": N_("Other")}
SCHEDULE_KINDS = {"weekly": N_("Weekly"), "monthly": N_("Monthly"), "monthly_window": N_("First days of the month")}
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
            N_("Sunday"))
CHANNELS = {"telegram": "Telegram", "zalo_oa": "Zalo OA", "zalo_bot": "Zalo Bot", "web": N_("Web chat")}
LISTS = {"attention": N_("Needs attention"), "due_soon": N_("Due soon"), "no_channel": N_("No chat registered"),
         "unreachable": N_("Cannot be reached")}
SIGNIN_METHODS = {"code": N_("code"), "link": N_("link"), "password": N_("password")}
