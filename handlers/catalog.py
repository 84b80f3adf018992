"""Every chat command of the contract (DESIGN.md), its audience and its one-line description.

The same list feeds `help` and the platforms' command menus.  A command whose handler is not
registered yet answers that it is not available yet and is left out of `help`.
"""

from __future__ import annotations

from bot.core.i18n import N_
from bot.core.router import CommandSpec
from bot.vocabulary import COORDINATOR, EVERYONE, GUIDE, NEWCOMER

COMMANDS: list[CommandSpec] = [
    CommandSpec("start", EVERYONE, N_("Start over and show the menu")),
    CommandSpec("help", EVERYONE, N_("Show what you can do here")),
    CommandSpec("language", EVERYONE, N_("Change the language")),
    CommandSpec("request", EVERYONE, N_("Ask for someone to come with you")),
    CommandSpec("myrequests", NEWCOMER, N_("See your requests")),
    CommandSpec("cancel", NEWCOMER, N_("Cancel a request")),
    CommandSpec("guide", EVERYONE, N_("Register as a volunteer guide")),
    CommandSpec("availability", GUIDE, N_("See or change when you are available")),
    CommandSpec("pause", GUIDE, N_("Pause offers, for example during a holiday")),
    CommandSpec("resume", GUIDE, N_("Receive offers again")),
    CommandSpec("appointments", GUIDE, N_("See your upcoming appointments")),
    CommandSpec("hours", GUIDE, N_("Hours and allowance from the funding programme")),
    CommandSpec("write", EVERYONE, N_("Write to your guide or the person you accompany")),
    CommandSpec("mydata", EVERYONE, N_("See the data stored about you")),
    CommandSpec("deleteme", EVERYONE, N_("Delete your data")),
    CommandSpec("broadcast", COORDINATOR, N_("Send a notice to guides or newcomers")),
    CommandSpec("approve", COORDINATOR, N_("Approve a guide")),
    CommandSpec("pending", COORDINATOR, N_("Guides waiting for approval")),
    CommandSpec("guides", COORDINATOR, N_("Suspend or reactivate a guide")),
    CommandSpec("stats", COORDINATOR, N_("Statistics for reports")),
    CommandSpec("unmatched", COORDINATOR, N_("Requests nobody has taken yet")),
    CommandSpec("reoffer", COORDINATOR, N_("Offer a waiting request again")),
    CommandSpec("requestfor", COORDINATOR, N_("File a request for someone without a phone")),
    CommandSpec("interpreter", COORDINATOR, N_("Mark a request as needing an interpreter")),
]
