"""A guide's standing: what a guide may do now, decided from their row at the moment they act.

Two purposes, one rule each:

- ``TAKE_ON`` — accept an offer, or be assigned by a coordinator: only an *approved* guide who is
  *not paused on the appointment's day* (the same test matching applies before an offer goes
  out; a pause 20.12.–6.1. does not stop Leila from accepting an appointment on 1.12.).
- ``EDIT`` — change the weekly availability, pause: a registered guide who is neither *rejected*
  nor *suspended* (a pending guide may prepare their times before approval).

A pause blocks only taking on *new* appointments.  It never blocks what a guide owes to an
appointment already agreed: cancelling it (so the newcomer is told and Lotse looks for someone
else), reporting that it took place and its hours — nor changing availability, pausing again or
resuming.  A suspension or a rejection also leaves cancelling and reporting possible: telling a
newcomer "I cannot come" is always better than not coming.

`standing()` returns None (allowed) or the reason as a code — "not_a_guide", "pending",
"rejected", "suspended", "paused" — which the handlers phrase in the guide's language.  Services
call it in the transaction that acts, so a suspension that commits first wins.
"""

from __future__ import annotations

from datetime import date

from bot.store.guides import Guide

TAKE_ON, EDIT = "take_on", "edit"


def standing(guide: Guide | None, purpose: str, day: date | None = None) -> str | None:
    """Why `guide` may not act for `purpose` (on the local `day` of an appointment), or None."""
    if guide is None:
        return "not_a_guide"
    if guide.state in ("rejected", "suspended"):
        return guide.state
    if purpose == EDIT:
        return None
    if guide.state != "approved":
        return guide.state
    if day is not None and guide.paused_on(day):
        return "paused"
    return None
