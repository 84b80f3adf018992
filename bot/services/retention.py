"""Retention: what Lotse keeps only for a while, deleted when the while is over ([privacy]).

`purge` applies every rule once, each in its own short transaction(s), the SQL in
bot/store/privacy.py.  The running bot calls it once a day of Lotse's clock (bot/app.py); the
operator can call it by hand (`lotse privacy purge`, with `--dry-run` to see first).

1. Free text: a request's place and note, and the feedback comment and meeting point on its
   appointment, are set to NULL once the appointment ended more than text_days ago; so is the id of
   the offer messages sent for it (nothing edits them any more).  The messages newcomer and guide
   wrote through the relay are deleted once their conversation closed ([relay] close_after), except
   a reported conversation's, which wait for a coordinator's decision.
2. People asked earlier who used Lotse since are no longer waiting to be erased.
3. People asked at least erase_after_days ago, without any activity since, are erased the way
   `deleteme` erases (bot/services/privacy.py).
4. People without activity for inactive_months (who agreed, are not erased and were not asked yet)
   are asked whether Lotse may keep their data, with a date, and marked as asked.  The message is
   best effort; the command line, which has no transports, only marks them.
5. The record that someone declined the notice (and never agreed) is deleted declined_days later,
   or anonymised if another row still refers to the person.
6. Button tokens and processed event ids are pruned (Store.prune) — the tokens kept long enough
   for the "keep my data" buttons to work until the erasure date.

Activity is the latest of: joining, agreeing (or answering "keep my data"), a request made, an
appointment made or ended as guide or newcomer, an offer answered, a step of a dialog.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.services import privacy

log = logging.getLogger(__name__)


@dataclass
class Purged:
    """What one purge changed (or, in a dry run, would change): the ids per rule."""

    texts: list[int] = field(default_factory=list)             # requests: place and note cleared
    feedback: list[int] = field(default_factory=list)          # assignments: feedback comment cleared
    offer_messages: list[int] = field(default_factory=list)    # offers: message id forgotten
    relayed: int = 0                                           # relayed messages of closed conversations
    active_again: list[int] = field(default_factory=list)      # people asked who used Lotse since
    erased: list[int] = field(default_factory=list)            # people asked who did not answer
    asked: list[int] = field(default_factory=list)             # people asked whether to keep their data
    declined_deleted: list[int] = field(default_factory=list)  # declined records deleted
    declined_anonymised: list[int] = field(default_factory=list)  # … anonymised (still referred to)
    tokens: int = 0                                            # button tokens pruned
    events: int = 0                                            # processed event ids pruned

    def counts(self) -> dict[str, int]:
        """Rule name → how many rows, in the order of the rules."""
        return {f.name: value if isinstance(value := getattr(self, f.name), int) else len(value)
                for f in fields(self)}


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day if shorter)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def event_keep(settings: Settings) -> timedelta:
    """How long processed event ids are kept (a redelivery is recognised within it)."""
    return max(settings.bot.dialog_expiry, timedelta(days=7))


def token_keep(settings: Settings) -> timedelta:
    """How long button tokens are kept: a dialog's buttons while it may be answered, and the "keep
    my data" buttons until the erasure they prevent."""
    return max(event_keep(settings), timedelta(days=settings.privacy.erase_after_days + 1))


async def purge(services: Any, now: datetime, dry_run: bool = False) -> Purged:
    """Apply the retention rules at `now` (services: the running App's, or the command line's with
    `.store` and `.settings` and no messenger).  A dry run changes nothing and reports the same."""
    store, rules = services.store, services.settings.privacy
    done = Purged()
    text_cutoff = now - timedelta(days=rules.text_days)
    done.texts = await store.privacy.clear_texts(text_cutoff, dry_run)
    done.feedback = await store.privacy.clear_feedback_comments(text_cutoff, dry_run)
    done.offer_messages = await store.privacy.clear_offer_messages(text_cutoff, dry_run)
    done.relayed = await store.relay.purge(now, services.settings.relay.close_after, dry_run)

    done.active_again = await store.privacy.active_again(dry_run)
    asked_before = now - timedelta(days=rules.erase_after_days)
    done.erased = await store.privacy.silent_since_asked(asked_before)
    if not dry_run:
        erased = []
        for person_id in done.erased:
            person = await store.people.get(person_id)
            # Checked again right before: the person may have answered meanwhile.
            if person is not None and await store.privacy.silent_since_asked(asked_before, person_id):
                await privacy.erase(services, person)
                erased.append(person_id)
        done.erased = erased

    done.asked = await store.privacy.inactive(months_before(now, rules.inactive_months))
    if not dry_run:
        await _ask(services, done.asked, now + timedelta(days=rules.erase_after_days), now)

    declined = await store.privacy.declined_before(now - timedelta(days=rules.declined_days))
    kept = await store.privacy.referenced(declined)
    done.declined_anonymised = kept
    if dry_run:
        done.declined_deleted = [i for i in declined if i not in set(kept)]
    else:
        async with store.transaction():
            done.declined_deleted = await store.privacy.delete_declined(
                [i for i in declined if i not in set(kept)], now - timedelta(days=rules.declined_days))
            for person_id in kept:
                await store.privacy.anonymise(person_id, now)
        if done.declined_deleted or kept:
            await store.db.checkpoint()

    settings = services.settings
    if dry_run:
        done.tokens, done.events = await store.privacy.prunable(now - token_keep(settings), now - event_keep(settings))
    else:
        done.tokens, done.events = await store.prune(now, keep=event_keep(settings), keep_tokens=token_keep(settings))
    if not dry_run and any(done.counts().values()):
        log.info("retention: %s", ", ".join(f"{k} {v}" for k, v in done.counts().items() if v))
    return done


async def _ask(services: Any, person_ids: list[int], erase_on: datetime, now: datetime) -> None:
    """Ask each person (best effort) and mark them asked: the message first, so that nobody is
    marked for erasure by a process that died before writing to them."""
    store = services.store
    messenger, texts = getattr(services, "messenger", None), getattr(services, "retention_texts", None)
    if messenger is None or texts is None:
        await store.privacy.mark_asked(person_ids, now)
        return
    for person_id in person_ids:
        person = await store.people.get(person_id)
        if person is None:
            continue
        try:
            await messenger.send(person, await texts.still_here(person, erase_on=erase_on))
        except Exception:
            log.exception("retention: asking person %s failed", person_id)
        await store.privacy.mark_asked([person_id], now)
