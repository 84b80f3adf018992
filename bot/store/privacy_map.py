"""The privacy map: every table and column of the schema, what kind of data it holds, what erasing a
person does to it, and how long it is kept.  The one place to read (and to change) that; erasure,
export and the privacy notice follow it, and tests/test_privacy_map.py fails when a column exists
that is not in here (or an entry names one that is gone), so no new column slips past.

The four kinds:

- personal: identifies a person or tells something about them by itself, without Lotse's other
  tables: a name, a platform user or chat id, free text they wrote (a request's note may reveal
  their health), their gender, the messages they sent or were sent.
- pseudonymous: about a person, but only through Lotse's own ids (person_id, a request or
  assignment id), times and states: who it is shows only together with the people table, so it
  stops being about anyone once that row is anonymised.
- statistical: kept after erasure, with no identity left, for counts and accounts (how many
  requests per topic and district, a guide's hours for the Träger's accounts).
- technical: Lotse's own working state, about no person (ids, schema versions, sync state, keys).

`erase` says in a short phrase what erasing the person (the one a row is about) does to the column;
an erased person's people row stays, anonymised (erased_at set), so kept records keep their
foreign keys (requests and assignments refuse the deletion of what they refer to).  `retain` is
the retention rule while nobody asks for erasure.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("personal", "pseudonymous", "statistical", "technical")


@dataclass(frozen=True)
class Column:
    kind: str    # one of KINDS
    erase: str   # what erasure of the person does to it: "set to NULL", "row deleted", "kept (no identity)"
    retain: str  # the retention rule

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"privacy map: kind {self.kind!r} is none of {KINDS}")
        if not self.erase.strip() or not self.retain.strip():
            raise ValueError("privacy map: say what erasure does and how long it is kept")


# Phrases used by many columns.
KEPT = "kept (no identity)"
NULL = "set to NULL"
DELETED = "row deleted"
NOT_ABOUT = "kept (about no person)"
WHILE_USED = "while the person uses Lotse"
TEXT_DAYS = "purged 30 days after the appointment ([privacy] text_days)"
ACCOUNTS = "kept: hours for the Träger's accounts, Art. 17(3)(b)"
ACCOUNTS_RETAIN = "as long as the Träger must keep its accounts"
WITH_ROW = "as long as its row is kept"
PRUNED = "pruned after [bot] dialog_expiry (at least 7 days)"
RELAY = ("deleted when the conversation closes ([relay] close_after after the appointment, or a coordinator "
         "closes it); a reported conversation once a coordinator decided")
CONSENT_PROOF = "kept: proof of consent and its withdrawal, Art. 7(1), 5(2)"


def _technical(retain: str = "for the life of the database") -> Column:
    return Column("technical", NOT_ABOUT, retain)


MAP: dict[str, dict[str, Column]] = {
    "schema_migrations": {
        "version": _technical(),
        "name": _technical(),
        "applied_at": _technical(),
    },
    "app_secrets": {  # e.g. the key of the guides' pseudonyms in exports
        "name": _technical(),
        "value": _technical(),
    },
    "people": {
        "id": Column("technical", "kept: the anonymised row keeps kept records' foreign keys", WITH_ROW),
        "platform": Column("technical", KEPT, WITH_ROW),
        "platform_user_id": Column("personal", "replaced by a placeholder (NOT NULL, UNIQUE)", WHILE_USED),
        "chat_id": Column("personal", "replaced by a placeholder (NOT NULL)", WHILE_USED),
        "language": Column("personal", NULL, WHILE_USED),
        "display_name": Column("personal", NULL, WHILE_USED),
        "role": Column("statistical", KEPT, WITH_ROW),
        "consent_version": Column("pseudonymous", NULL + " (consents keeps the history)", WHILE_USED),
        "consent_at": Column("pseudonymous", NULL + " (consents keeps the history)", WHILE_USED),
        "declined_at": Column("pseudonymous", NULL + " (consents keeps the history)", WHILE_USED),
        "unreachable_at": Column("pseudonymous", NULL, WHILE_USED),
        "created_at": Column("statistical", KEPT, WITH_ROW),
        "erased_at": Column("statistical", "set to the time of erasure", WITH_ROW),
        "retention_asked_at": Column("pseudonymous", NULL,
                                     "until the person answers the retention question or is active again"),
    },
    "consents": {  # the person's history of agreeing, declining and withdrawing
        "id": Column("technical", DELETED, "while the person uses Lotse"),
        "person_id": Column("pseudonymous", DELETED, "while the person uses Lotse; a decline: [privacy] declined_days"),
        "version": Column("pseudonymous", DELETED, "while the person uses Lotse; a decline: [privacy] declined_days"),
        "action": Column("pseudonymous", DELETED, "while the person uses Lotse; a decline: [privacy] declined_days"),
        "at": Column("pseudonymous", DELETED, "while the person uses Lotse; a decline: [privacy] declined_days"),
    },
    "dialog_states": {  # the open dialog, with the answers given so far
        "person_id": Column("pseudonymous", DELETED, "until the dialog ends or expires ([bot] dialog_expiry)"),
        "dialog": Column("pseudonymous", DELETED, "until the dialog ends or expires ([bot] dialog_expiry)"),
        "instance": Column("pseudonymous", DELETED, "until the dialog ends or expires ([bot] dialog_expiry)"),
        "step": Column("pseudonymous", DELETED, "until the dialog ends or expires ([bot] dialog_expiry)"),
        "data": Column("personal", DELETED, "until the dialog ends or expires ([bot] dialog_expiry)"),
        "updated_at": Column("pseudonymous", DELETED, "until the dialog ends or expires ([bot] dialog_expiry)"),
        "buttons": Column("pseudonymous", DELETED, "until the dialog ends or expires ([bot] dialog_expiry)"),
    },
    "button_tokens": {
        "token": Column("pseudonymous", DELETED, PRUNED),
        "person_id": Column("pseudonymous", DELETED, PRUNED),
        "action": Column("pseudonymous", DELETED, PRUNED),
        "scope": Column("pseudonymous", DELETED, PRUNED),
        "payload": Column("pseudonymous", DELETED, PRUNED),
        "created_at": Column("pseudonymous", DELETED, PRUNED),
    },
    "processed_events": {  # redelivered updates are recognised by their id
        "platform": _technical(PRUNED),
        "event_id": Column("technical", "kept (no identity; pruned soon)", PRUNED),
        "handled_at": _technical(PRUNED),
    },
    "transport_state": {  # sync token, a person's direct-message room, the last numbered menu per room
        "platform": Column("technical", KEPT, "while the transport runs"),
        "key": Column("personal", "the person's rows deleted (keys naming their user or room)",
                      "while the transport runs; a person's rows while they use Lotse"),
        "value": Column("personal", "the person's rows deleted (keys naming their user or room)",
                        "while the transport runs; a person's rows while they use Lotse"),
        "updated_at": Column("technical", "the person's rows deleted (keys naming their user or room)",
                             "while the transport runs"),
    },
    "inbox": {  # an update as received, until handled and answered
        "id": Column("technical", DELETED, "deleted once handled and its replies went out"),
        "platform": Column("technical", DELETED, "deleted once handled and its replies went out"),
        "user_id": Column("personal", DELETED, "deleted once handled and its replies went out"),
        "event_id": Column("technical", DELETED, "deleted once handled and its replies went out"),
        "event": Column("personal", DELETED, "deleted once handled and its replies went out"),
        "received_at": Column("technical", DELETED, "deleted once handled and its replies went out"),
        "replies": Column("personal", DELETED, "deleted once handled and its replies went out"),
    },
    "requests": {
        "id": Column("technical", KEPT, ACCOUNTS_RETAIN),
        "person_id": Column("pseudonymous", "kept (points at the anonymised people row)", ACCOUNTS_RETAIN),
        "topic": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "starts_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "duration_minutes": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "district": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "place": Column("personal", NULL, TEXT_DAYS),
        "preferred_gender": Column("personal", NULL, TEXT_DAYS),
        "note": Column("personal", NULL, TEXT_DAYS),  # free text: may reveal health
        "state": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "created_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "cancelled_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "escalated_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "on_behalf": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        # the newcomer a coordinator filed for is not a Lotse user: erasing the coordinator (or the
        # retention rule for free text) clears what identifies them
        "behalf_name": Column("personal", NULL, TEXT_DAYS),
        "behalf_phone": Column("personal", NULL, TEXT_DAYS),
        "interpreter": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "referred_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
    },
    "request_languages": {
        "request_id": Column("technical", KEPT, ACCOUNTS_RETAIN),
        "language": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "position": Column("statistical", KEPT, ACCOUNTS_RETAIN),
    },
    "guides": {  # the row stays (assignments refer to it), stripped of the profile
        "person_id": Column("pseudonymous", "kept (points at the anonymised people row)", ACCOUNTS_RETAIN),
        "state": Column("statistical", "set to 'suspended' (never offered anything again)", ACCOUNTS_RETAIN),
        "weekly_max": Column("pseudonymous", KEPT + " (NOT NULL)", WITH_ROW),
        "gender": Column("personal", NULL, WHILE_USED),
        "all_districts": Column("pseudonymous", "set to 0", WHILE_USED),
        "paused_from": Column("pseudonymous", NULL, "until the pause ends or the guide resumes"),
        "paused_until": Column("pseudonymous", NULL, "until the pause ends or the guide resumes"),
        "training_on": Column("pseudonymous", NULL, WHILE_USED),
        "pledge_on": Column("pseudonymous", NULL, WHILE_USED),
        "police_certificate_on": Column("pseudonymous", NULL, WHILE_USED),
        "registered_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "decided_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "decided_by": Column("pseudonymous", "kept (a coordinator's id)", ACCOUNTS_RETAIN),
        "decision_reason": Column("personal", NULL, "while the guide is registered"),
        "languages_text": Column("pseudonymous", NULL + " (the triggers, as guide_languages rows go)", WHILE_USED),
        "districts_text": Column("pseudonymous", NULL + " (the triggers, as guide_districts rows go)", WHILE_USED),
        "topics_text": Column("pseudonymous", NULL + " (the triggers, as guide_topics rows go)", WHILE_USED),
        "coordinating": Column("pseudonymous", KEPT, ACCOUNTS_RETAIN),  # decides the caps of the accounts
        "benefits": Column("personal", "set to 0", WHILE_USED),  # sensitive: their social situation
    },
    "hours_corrections": {  # the audit trail of the accounts
        "id": Column("technical", KEPT, ACCOUNTS_RETAIN),
        "assignment_id": Column("pseudonymous", KEPT, ACCOUNTS_RETAIN),
        "corrected_by": Column("pseudonymous", "kept (a coordinator's id)", ACCOUNTS_RETAIN),
        "corrected_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "old_hours": Column("statistical", ACCOUNTS, ACCOUNTS_RETAIN),
        "new_hours": Column("statistical", ACCOUNTS, ACCOUNTS_RETAIN),
        "reason": Column("personal", "replaced by '—' when the guide is erased (the correction itself stays)",
                         ACCOUNTS_RETAIN),
    },
    "cap_warnings": {
        "guide_id": Column("pseudonymous", KEPT, "until the year's accounts are closed"),
        "year": Column("technical", KEPT, "until the year's accounts are closed"),
        "level": Column("technical", KEPT, "until the year's accounts are closed"),
        "sent_at": Column("technical", KEPT, "until the year's accounts are closed"),
    },
    "guide_languages": {
        "guide_id": Column("pseudonymous", DELETED, WHILE_USED),
        "language": Column("pseudonymous", DELETED, WHILE_USED),
        "position": Column("pseudonymous", DELETED, WHILE_USED),
    },
    "guide_districts": {
        "guide_id": Column("pseudonymous", DELETED, WHILE_USED),
        "district": Column("pseudonymous", DELETED, WHILE_USED),
    },
    "guide_topics": {
        "guide_id": Column("pseudonymous", DELETED, WHILE_USED),
        "topic": Column("pseudonymous", DELETED, WHILE_USED),
    },
    "guide_slots": {
        "id": Column("technical", DELETED, WHILE_USED),
        "guide_id": Column("pseudonymous", DELETED, WHILE_USED),
        "weekday": Column("pseudonymous", DELETED, WHILE_USED),
        "start_minute": Column("pseudonymous", DELETED, WHILE_USED),
        "end_minute": Column("pseudonymous", DELETED, WHILE_USED),
    },
    "offers": {  # kept for the statistics; what could identify goes
        "id": Column("technical", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "request_id": Column("pseudonymous", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "guide_id": Column("pseudonymous", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "wave": Column("statistical", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "state": Column("statistical", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "sent_at": Column("statistical", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "expires_at": Column("statistical", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "answered_at": Column("statistical", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "decline_reason": Column("statistical", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "message_id": Column("pseudonymous", NULL, "[privacy] text_days after the appointment"),
        "notified": Column("technical", "kept (no identity); an open offer to an erased guide is withdrawn", "with its request"),
        "asked_by": Column("pseudonymous", "kept (a coordinator's id)", "with its request"),
    },
    "assignments": {
        "id": Column("technical", ACCOUNTS, ACCOUNTS_RETAIN),
        "request_id": Column("pseudonymous", ACCOUNTS, ACCOUNTS_RETAIN),
        "guide_id": Column("pseudonymous", ACCOUNTS, ACCOUNTS_RETAIN),
        "state": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "assigned_by": Column("pseudonymous", "kept (a coordinator's id)", ACCOUNTS_RETAIN),
        "created_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "ended_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "hours": Column("statistical", ACCOUNTS, ACCOUNTS_RETAIN),
        "feedback": Column("statistical", KEPT, ACCOUNTS_RETAIN),
        "feedback_comment": Column("personal", NULL, TEXT_DAYS),
        "meeting_point": Column("personal", NULL, TEXT_DAYS),  # where the guide proposed to meet
        "relay_closed_at": Column("statistical", KEPT, ACCOUNTS_RETAIN),
    },
    "relay_messages": {  # what newcomer and guide wrote to each other through Lotse
        "id": Column("technical", DELETED, RELAY),
        "assignment_id": Column("pseudonymous", DELETED, RELAY),
        "sender_id": Column("pseudonymous", DELETED, RELAY),
        "recipient_id": Column("pseudonymous", DELETED, RELAY),
        "phrase": Column("personal", DELETED, RELAY),
        "body": Column("personal", DELETED, RELAY),
        "language": Column("personal", DELETED, RELAY),
        "state": Column("technical", DELETED, RELAY),
        "created_at": Column("pseudonymous", DELETED, RELAY),
        "sent_at": Column("pseudonymous", DELETED, RELAY),
        "reported_at": Column("pseudonymous", DELETED, RELAY),
        "decided_at": Column("pseudonymous", DELETED, RELAY),
        "file_ref": Column("personal", DELETED, RELAY),       # points at the sender's photo on their platform
        "file_name": Column("personal", DELETED, RELAY),
        "file_type": Column("technical", DELETED, RELAY),
        "file_platform": Column("technical", DELETED, RELAY),
    },
    "reminders": {
        "id": Column("technical", DELETED, "with its assignment"),
        "assignment_id": Column("pseudonymous", DELETED, "with its assignment"),
        "person_id": Column("pseudonymous", DELETED, "with its assignment"),
        "kind": Column("pseudonymous", DELETED, "with its assignment"),
        "offset_minutes": Column("pseudonymous", DELETED, "with its assignment"),
        "due_at": Column("pseudonymous", DELETED, "with its assignment"),
        "state": Column("pseudonymous", DELETED, "with its assignment"),
        "claimed_at": Column("pseudonymous", DELETED, "with its assignment"),
        "done_at": Column("pseudonymous", DELETED, "with its assignment"),
        "attempts": Column("pseudonymous", DELETED, "with its assignment"),
    },
    "broadcasts": {  # a coordinator's notice; erasing the coordinator keeps it
        "id": _technical("kept (the coordinator's report)"),
        "coordinator_id": Column("pseudonymous", "kept (points at the anonymised people row)",
                                 "kept (the coordinator's report)"),
        "audience": _technical("kept (the coordinator's report)"),
        "languages": _technical("kept (the coordinator's report)"),
        "districts": _technical("kept (the coordinator's report)"),
        "state": _technical("kept (the coordinator's report)"),
        "progress_id": Column("pseudonymous", NULL, "kept (the coordinator's report)"),
        "created_at": _technical("kept (the coordinator's report)"),
        "finished_at": _technical("kept (the coordinator's report)"),
    },
    "broadcast_texts": {  # the notice as written, one version per language
        "broadcast_id": _technical("with its broadcast"),
        "language": _technical("with its broadcast"),
        "text": _technical("with its broadcast"),
    },
    "broadcast_outbox": {  # one row per recipient
        "id": Column("technical", DELETED, "with its broadcast"),
        "broadcast_id": Column("pseudonymous", DELETED, "with its broadcast"),
        "person_id": Column("pseudonymous", DELETED, "with its broadcast"),
        "platform": Column("pseudonymous", DELETED, "with its broadcast"),
        "state": Column("pseudonymous", DELETED, "with its broadcast"),
        "attempts": Column("pseudonymous", DELETED, "with its broadcast"),
        "not_before": Column("pseudonymous", DELETED, "with its broadcast"),
        "message_id": Column("pseudonymous", DELETED, "with its broadcast"),
        "error": Column("pseudonymous", DELETED, "with its broadcast"),
        "updated_at": Column("pseudonymous", DELETED, "with its broadcast"),
    },
}


def columns(kind: str) -> list[tuple[str, str]]:
    """(table, column) of every column of one kind, in map order."""
    if kind not in KINDS:
        raise ValueError(f"privacy map: kind {kind!r} is none of {KINDS}")
    return [(table, name) for table, cols in MAP.items() for name, col in cols.items() if col.kind == kind]
