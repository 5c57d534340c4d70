"""Rasa custom actions (rasa-sdk), served by ``python -m rasa_sdk --actions actions``.

Strings come from the gettext catalogs in ``bot/locale`` (``bot.i18n``); domain
rules live in plain Python modules that these actions call.
"""

# First: logs keep nothing personal (bot.logsafe). rasa-sdk runs the actions in
# spawned Sanic worker processes, each of which imports this package.
from bot.logsafe import install as _safe_logging

_safe_logging()

from actions.answers import ActionAnswer  # noqa: E402
from actions.common import ActionShowDetails
from actions.checkin import ActionAskCiConfirm, ActionCheckinFinish, ActionCheckinStart, ValidateCheckinForm
from actions.crisis import ActionCrisis, ActionDistress, ActionHandover, ActionNoPolice, ActionTellMentor
from actions.enrollment import ActionAskEnrollConsent, ActionEnrollFinish, ActionEnrollStart, ValidateEnrollForm
from actions.expungement import (
    ActionExpungementResult,
    ActionExpungementStart,
    ActionRememberMilestone,
    ValidateExpungementForm,
)
from actions.interruptions import ActionAnswerInForm
from actions.loans import ActionLoanResult, ActionLoanStart, ValidateLoanForm
from actions.menu import ActionFallbackTopics, ActionTopicMenu
from actions.privacy import ActionEraseAsk, ActionEraseDeclined, ActionEraseFinish
from actions.outbox_buttons import ActionAckReminder, ActionAlertAction

__all__ = [
    "ActionAnswer", "ActionAnswerInForm", "ActionShowDetails", "ActionTopicMenu", "ActionFallbackTopics",
    "ActionExpungementStart", "ActionExpungementResult", "ValidateExpungementForm",
    "ActionLoanStart", "ActionLoanResult", "ValidateLoanForm",
    "ActionEnrollStart", "ActionAskEnrollConsent", "ValidateEnrollForm", "ActionEnrollFinish",
    "ActionCheckinStart", "ActionAskCiConfirm", "ValidateCheckinForm", "ActionCheckinFinish",
    "ActionAckReminder", "ActionAlertAction", "ActionRememberMilestone",
    "ActionEraseAsk", "ActionEraseFinish", "ActionEraseDeclined",
    "ActionCrisis", "ActionHandover", "ActionNoPolice", "ActionDistress", "ActionTellMentor",
]
