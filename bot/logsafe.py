"""Secrets never reach a log line.

python-telegram-bot and httpx log request URLs, and a Telegram URL carries the bot token
(`https://api.telegram.org/bot123:ABC/getUpdates`).  `RedactingFilter`, installed on the log
handlers by the CLI, rewrites every record before it is written: the configured secrets (Telegram
token, Matrix password and access token, registered with `add_secret`) and anything shaped like a
token in a URL are replaced by "<redacted>" — in the message, its arguments and a traceback.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "<redacted>"

# /bot<digits>:<token> in a Bot API URL (also /file/bot…), and a bare Telegram token anywhere.
_BOT_PATH = re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+")
_BARE_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")
_QUERY_SECRET = re.compile(r"((?:access_token|password|token)=)[^&\s'\"]+", re.IGNORECASE)

_secrets: set[str] = set()
_lock = threading.Lock()


def add_secret(value: str | None) -> None:
    """From now on, `value` is replaced wherever it appears in a log record."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    text = _BOT_PATH.sub(rf"\1{REDACTED}", text)
    text = _BARE_TOKEN.sub(REDACTED, text)
    text = _QUERY_SECRET.sub(rf"\1{REDACTED}", text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A handler filter: the record leaves with its message already formatted and redacted."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it, without the arguments
            message, record.args = str(record.msg), None
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
