"""The transports Lotse knows: each one's config section, secrets, checks and how to build it.

This is the only list of platforms.  Config loading (bot/config.py) reads the sections and the
secrets from here, the CLI builds the enabled transports from here, and what the rest of Lotse
needs to know of a platform (its name as people read it, its rate, whether it has buttons…) each
transport declares itself as `Traits` (bot/core/transport.py).  Entries import nothing heavy: a
transport's module (and its platform library) is imported only when it is built.

A new transport = its module, its entry here (or `register()` — a test registers a throwaway one),
its section in config.example.toml, and its tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Duration

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.transport import Transport


@dataclass(frozen=True)
class Entry:
    name: str                                   # the platform ("telegram"), also its config section
    settings: type | None                       # the section's dataclass; None: no section (the terminal)
    build: Callable[["Settings", Any], "Transport"]  # (all settings, this section) → the transport
    env: Mapping[str, str] = field(default_factory=dict)  # environment variable → key (secrets)
    secrets: Callable[[Any], list[str]] = lambda section: []  # values no log line may show
    validate: Callable[[Any], None] = lambda section: None   # raise ConfigError naming the key
    enabled: Callable[[Any], bool] = lambda section: bool(getattr(section, "enabled", False))


_ENTRIES: dict[str, Entry] = {}


def register(entry: Entry) -> Callable[[], None]:
    """Add a transport; returns a function that removes it again (tests)."""
    if entry.name in _ENTRIES:
        raise ValueError(f"transport {entry.name!r} registered twice")
    _ENTRIES[entry.name] = entry

    def unregister() -> None:
        _ENTRIES.pop(entry.name, None)

    return unregister


def entries() -> list[Entry]:
    return list(_ENTRIES.values())


def get(name: str) -> Entry:
    return _ENTRIES[name]


def sections() -> dict[str, type]:
    """Config section name → its dataclass, for every transport that has one."""
    return {e.name: e.settings for e in _ENTRIES.values() if e.settings is not None}


def build_enabled(settings: "Settings", *, console_only: bool = False, user: str = "you") -> list["Transport"]:
    """The transports enabled in `settings` (the terminal when none is, or when asked for)."""
    built = [] if console_only else [e.build(settings, settings.section(e.name)) for e in _ENTRIES.values()
                                     if e.settings is not None and e.enabled(settings.section(e.name))]
    if not built:
        from bot.transports.console import ConsoleTransport

        built.append(ConsoleTransport(user=user))
    return built


# -- the terminal ----------------------------------------------------------------------------------
def _build_console(settings: "Settings", section: Any) -> "Transport":
    from bot.transports.console import ConsoleTransport

    return ConsoleTransport()


register(Entry("console", None, _build_console, enabled=lambda section: False))


# -- Telegram --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TelegramSettings:
    enabled: bool = False
    token: str = ""
    base_url: str = "https://api.telegram.org"
    concurrent_updates: int = 16
    poll_timeout: Duration = Duration(seconds=30)
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str = ""
    rate: float = 29.0               # broadcasts: messages per second, all chats together
    per_chat_interval: float = 1.0   # broadcasts: seconds between two messages to one chat


def _validate_rate(name: str, rate: float, per_chat_interval: float = 0.0) -> None:
    if not 0 < rate <= 1000:
        raise ConfigError(f"config: [{name}] rate: must be above 0 and at most 1000 messages per second")
    if not 0 <= per_chat_interval <= 3600:
        raise ConfigError(f"config: [{name}] per_chat_interval: must be between 0 and 3600 seconds")


def _validate_telegram(tg: TelegramSettings) -> None:
    _validate_rate("telegram", tg.rate, tg.per_chat_interval)
    if tg.enabled and not tg.token:
        raise ConfigError("config: [telegram] token: required when [telegram] enabled = true "
                          "(or set LOTSE_TELEGRAM_TOKEN)")
    if not re.match(r"^https?://[^/\s]+", tg.base_url):
        raise ConfigError(f"config: [telegram] base_url: not an http(s) URL: {tg.base_url!r}")
    if not 1 <= tg.concurrent_updates <= 32:
        raise ConfigError("config: [telegram] concurrent_updates: must be between 1 and 32 "
                          f"(more makes the HTTP pool slower), got {tg.concurrent_updates}")
    if not timedelta(0) <= tg.poll_timeout <= timedelta(seconds=50):
        raise ConfigError("config: [telegram] poll_timeout: must be between 0s and 50s")
    if tg.webhook_url and not tg.webhook_url.startswith("https://") and not tg.webhook_url.startswith("http://127."):
        raise ConfigError(f"config: [telegram] webhook_url: Telegram only calls https:// URLs, got {tg.webhook_url!r}")
    if not 1 <= tg.webhook_port <= 65535:
        raise ConfigError(f"config: [telegram] webhook_port: not a TCP port: {tg.webhook_port}")
    if tg.webhook_secret and not re.match(r"^[A-Za-z0-9_-]{1,256}$", tg.webhook_secret):
        raise ConfigError("config: [telegram] webhook_secret: 1-256 characters A-Z, a-z, 0-9, _ and - only")


def _build_telegram(settings: "Settings", section: TelegramSettings) -> "Transport":
    import dataclasses

    from bot.transports.telegram import TRAITS, TelegramTransport

    return TelegramTransport(section, traits=dataclasses.replace(
        TRAITS, rate=section.rate, per_chat_interval=section.per_chat_interval))


register(Entry(
    "telegram", TelegramSettings, _build_telegram,
    env={"LOTSE_TELEGRAM_TOKEN": "token", "LOTSE_TELEGRAM_WEBHOOK_SECRET": "webhook_secret"},
    secrets=lambda tg: [tg.token, tg.webhook_secret],
    validate=_validate_telegram,
))


# -- Matrix ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatrixSettings:
    enabled: bool = False
    homeserver: str = ""
    user_id: str = ""
    password: str = ""
    access_token: str = ""
    device_name: str = "Lotse"
    session_dir: Path = Path("data/matrix")
    sync_timeout: Duration = Duration(seconds=30)
    encryption: bool = False
    polls: bool = True
    rate: float = 10.0               # broadcasts: messages per second


def _validate_matrix(mx: MatrixSettings) -> None:
    _validate_rate("matrix", mx.rate)
    if not mx.enabled:
        return
    if not re.match(r"^https?://[^/\s]+", mx.homeserver):
        raise ConfigError(f"config: [matrix] homeserver: not an http(s) URL: {mx.homeserver!r}")
    if not re.match(r"^@[^:\s]+:\S+$", mx.user_id):
        raise ConfigError(f"config: [matrix] user_id: expected \"@name:server\", got {mx.user_id!r}")
    if not timedelta(seconds=1) <= mx.sync_timeout <= timedelta(minutes=5):
        raise ConfigError("config: [matrix] sync_timeout: must be between 1s and 5m")
    if not (mx.password or mx.access_token):
        raise ConfigError("config: [matrix] password: a password or access_token is required when "
                          "[matrix] enabled = true (or set LOTSE_MATRIX_PASSWORD)")


def _build_matrix(settings: "Settings", section: MatrixSettings) -> "Transport":
    import dataclasses

    from bot.transports.matrix import TRAITS, MatrixTransport

    return MatrixTransport(section, traits=dataclasses.replace(TRAITS, rate=section.rate))


register(Entry(
    "matrix", MatrixSettings, _build_matrix,
    env={"LOTSE_MATRIX_PASSWORD": "password", "LOTSE_MATRIX_ACCESS_TOKEN": "access_token"},
    secrets=lambda mx: [mx.password, mx.access_token],
    validate=_validate_matrix,
))
