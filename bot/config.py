"""TOML configuration → typed, validated settings.

Every key is declared once, in the dataclasses below; `config.example.toml` documents each of
them.  A wrong key, type or value raises `ConfigError` with one line that names the key; the CLI
prints it and exits with status 2.  No config file at all gives the embedded defaults: SQLite
under data/ and the terminal transport.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from bot.core.i18n import babel_locale
from bot.vocabulary import PLEDGE, TRAINING, VETTING

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """A configuration problem, phrased as one line that names the key."""


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Parse "90m", "2h", "1d", "30s", "2w" (one number, one unit) into a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like '90m', '2h' or '1d'")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class Duration(timedelta):
    """Marker type: a config value written as a duration string."""


@dataclass(frozen=True)
class DatabaseSettings:
    path: Path = Path("data/lotse.db")


@dataclass(frozen=True)
class RolesSettings:
    coordinators: tuple[str, ...] = ()


@dataclass(frozen=True)
class BotSettings:
    timezone: str = "Europe/Berlin"
    default_language: str = "de"
    languages: tuple[str, ...] = ("de", "en", "ar", "fa", "prs", "ps", "ku", "tr", "ti", "so", "uk", "ru", "fr")
    dialog_expiry: Duration = Duration(days=7)
    region: str = "DE"
    workers: int = 16                                  # events handled at the same time (different people)
    rate_limit: int = 20                               # events one person may send per rate_window; 0: no cap
    rate_window: Duration = Duration(minutes=1)
    stop_timeout: Duration = Duration(seconds=20)      # a clean stop waits this long for events taken


TOPICS = ("doctor", "immigration", "jobcentre", "school", "housing", "authority", "other")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class AreaSettings:
    districts: tuple[str, ...] = ("Dietzenbach", "Dreieich", "Langen", "Mühlheim", "Neu-Isenburg", "Rodgau",
                                  "Seligenstadt")
    languages: tuple[str, ...] = ("ar", "fa", "prs", "ps", "ku", "tr", "ti", "am", "so", "uk", "ru", "en", "fr", "de")


@dataclass(frozen=True)
class RequestsSettings:
    topics: tuple[str, ...] = TOPICS
    service_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    service_hours: str = "08:00-17:00"
    durations: tuple[Duration, ...] = (Duration(minutes=30), Duration(hours=1), Duration(hours=2),
                                       Duration(hours=3), Duration(hours=4))
    min_lead_time: Duration = Duration(hours=24)
    max_lead_time: Duration = Duration(days=90)
    date_buttons: int = 6
    max_open_per_person: int = 3
    note_max_length: int = 300

    @property
    def hours(self) -> tuple[int, int]:
        """Service hours as minutes after midnight: (start, end)."""
        start, end = self.service_hours.split("-")
        return _minutes(start), _minutes(end)

    @property
    def weekdays(self) -> set[int]:
        return {WEEKDAYS.index(day) for day in self.service_days}


@dataclass(frozen=True)
class GuidesSettings:
    require: tuple[str, ...] = (TRAINING, PLEDGE)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.strip().split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class WeightsSettings:
    """How much each part of a guide's fit counts (see bot/services/matching.py)."""

    first_language: float = 3.0   # speaks the newcomer's first language
    other_language: float = 1.0   # shares only another of the newcomer's languages
    district: float = 1.0         # names the district (not only "all districts")
    topic: float = 1.0            # comfortable with the topic
    fairness: float = 2.0         # fewer assignments in the last 30 days
    continuity: float = 1.5       # helped this newcomer before and it went well
    reliability: float = 1.0      # accepts offers, no no-shows


@dataclass(frozen=True)
class MatchingSettings:
    wave_size: int = 3
    offer_timeout: Duration = Duration(hours=4)
    escalate_before: Duration = Duration(hours=48)
    travel_buffer: Duration = Duration(minutes=30)
    weights: WeightsSettings = field(default_factory=WeightsSettings)


@dataclass(frozen=True)
class RemindersSettings:
    offsets: tuple[Duration, ...] = (Duration(hours=24), Duration(hours=2))
    followup_after: Duration = Duration(hours=2)
    followup_expiry: Duration = Duration(days=7)
    hours_choices: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 4.0)
    horizon: Duration = Duration(hours=6)
    retry_after: Duration = Duration(minutes=10)
    max_attempts: int = 5


@dataclass(frozen=True)
class PrivacySettings:
    notice_version: str = "2026-12-2"   # raise it and everyone is asked again at their next message
    controller: str = ""                # who is responsible (Art. 13(1)(a)): the Träger's name …
    contact: str = ""                   # … and how to reach it (address, e-mail or phone)
    dpo: str = ""                       # the data protection officer's contact, if there is one
    authority: str = "Der Hessische Beauftragte für Datenschutz und Informationsfreiheit, poststelle@datenschutz.hessen.de"
    notice_url: str = ""                # a longer notice on the web, if any
    text_days: int = 30                 # place, note and feedback text: purged this many days after the appointment
    inactive_months: int = 24           # no activity this long: the person is asked whether to keep their data …
    erase_after_days: int = 14          # … and erased this many days later without an answer
    declined_days: int = 30             # the record that someone declined the notice: kept this long


@dataclass(frozen=True)
class ReferralSettings:
    """Where a newcomer who needs a professional interpreter is sent (the local language-mediator
    pool); empty `name`: no pool is named, the newcomer is only told to ask for an interpreter."""
    name: str = ""
    phone: str = ""
    hours: str = ""                           # office hours as the pool writes them, e.g. "Mo–Fr 9–15 Uhr"
    url: str = ""
    ask_topics: tuple[str, ...] = ()          # topics whose request asks "is an interpreter needed?" (example: doctor)


PROGRAMME_UNITS = ("hour", "assignment", "month", "none")


@dataclass(frozen=True)
class ProgrammeSettings:
    """The funding programme that pays guides (bot/services/programme.py).  The embedded default
    is no programme (unit "none": no caps, no allowances); config.example.toml shows Hessen's WIR."""
    name: str = ""
    unit: str = "none"                        # hour | assignment | month | none: what `rate` pays for
    rate: float = 0.0                         # € per unit
    weekly_cap: float = 0.0                   # average hours a week at most (0: no cap) …
    weekly_cap_coordinating: float = 0.0      # … for a guide marked as also coordinating
    average_weeks: int = 4                    # the weekly average is taken over this many weeks
    yearly_cap: float = 0.0                   # hours a calendar year at most (0: no cap) …
    yearly_cap_coordinating: float = 0.0      # … for a guide marked as also coordinating
    pool_hours: float = 0.0                   # hours a year for the whole project (0: no pool)
    benefits_monthly_limit: float = 0.0       # € a month a guide marked as receiving benefits may keep (0: none)
    tax_free_yearly: float = 0.0              # € a year tax-free; warned about beyond it (0: no warning)
    rounding: float = 0.25                    # hours are counted in steps of this (0: exactly)
    counts_travel: bool = True                # the reported hours include the way there and back
    warn_at: tuple[float, ...] = (0.8, 0.95)  # shares of the yearly cap at which guide and coordinators are told


@dataclass(frozen=True)
class RelaySettings:
    """Messages between a newcomer and their guide, through Lotse (handlers/relay.py)."""
    close_after: Duration = Duration(days=2)  # the conversation closes this long after the appointment ends
    max_length: int = 1000                    # longest relayed text, in characters
    shown_in_report: int = 10                 # the last messages a coordinator sees when one is reported
    max_file_bytes: int = 5_000_000           # largest photo or file passed on (0: none)


@dataclass(frozen=True)
class BroadcastSettings:
    max_attempts: int = 5                     # tries of one message on temporary errors (5xx, network)
    retry_backoff: float = 2.0                # seconds before the first retry; doubled each time
    retry_backoff_cap: float = 300.0          # longest wait between two tries
    progress_interval: float = 10.0           # seconds between edits of the coordinator's progress message
    max_length: int = 3000                    # longest notice, in characters


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    roles: RolesSettings = field(default_factory=RolesSettings)
    bot: BotSettings = field(default_factory=BotSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    area: AreaSettings = field(default_factory=AreaSettings)
    requests: RequestsSettings = field(default_factory=RequestsSettings)
    guides: GuidesSettings = field(default_factory=GuidesSettings)
    matching: MatchingSettings = field(default_factory=MatchingSettings)
    reminders: RemindersSettings = field(default_factory=RemindersSettings)
    broadcast: BroadcastSettings = field(default_factory=BroadcastSettings)
    referral: ReferralSettings = field(default_factory=ReferralSettings)
    relay: RelaySettings = field(default_factory=RelaySettings)
    programme: ProgrammeSettings = field(default_factory=ProgrammeSettings)
    # The transports' sections ([telegram], [matrix], …), by name, as bot/transports/registry.py
    # declares them.
    transports: typing.Mapping[str, typing.Any] = field(default_factory=lambda: _transport_defaults())

    def section(self, name: str) -> typing.Any:
        """A transport's config section (its dataclass), e.g. section("telegram")."""
        return self.transports[name]

    def with_section(self, name: str, section: typing.Any) -> "Settings":
        return dataclasses.replace(self, transports={**self.transports, name: section})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.bot.timezone)

    def is_coordinator(self, platform: str, user_id: str) -> bool:
        return f"{platform}:{user_id}" in self.roles.coordinators


def _registry():  # noqa: ANN202  (a function-level import: the registry imports this module)
    from bot.transports import registry

    return registry


def _transport_defaults() -> dict[str, typing.Any]:
    return {name: cls() for name, cls in _registry().sections().items()}


def env_secrets() -> dict[str, tuple[str, str]]:
    """Secrets that may come from the environment instead of the file (environment wins):
    variable → (section, key), as each transport declares them."""
    return {var: (entry.name, key) for entry in _registry().entries() for var, key in entry.env.items()}


def _convert(key: str, value: object, annotation: object) -> object:
    """Convert one TOML value to the annotated type or raise ConfigError naming `key`."""
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config: {key}: expected true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config: {key}: expected a whole number, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config: {key}: expected a number, got {value!r}")
        return float(value)
    if dataclasses.is_dataclass(annotation):
        return _build_section(key.strip("[]").replace("] ", "."), annotation, value)  # a nested table
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"config: {key}: expected a string, got {value!r}")
        return value
    if annotation is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"config: {key}: expected a file path string, got {value!r}")
        return Path(value)
    if annotation is Duration:
        if not isinstance(value, str):
            raise ConfigError(f"config: {key}: expected a duration string like \"2h\", got {value!r}")
        try:
            return Duration(seconds=parse_duration(value).total_seconds())
        except ValueError as exc:
            raise ConfigError(f"config: {key}: {exc}") from None
    if typing.get_origin(annotation) is tuple:
        (item_type, _) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise ConfigError(f"config: {key}: expected a list, got {value!r}")
        return tuple(_convert(f"{key}[{i}]", v, item_type) for i, v in enumerate(value))
    raise AssertionError(f"unsupported annotation {annotation!r} for {key}")  # programming error


def _build_section(name: str, cls: type, raw: object) -> object:
    if not isinstance(raw, dict):
        raise ConfigError(f"config: [{name}] must be a table, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"config: [{name}] {key}: unknown key (known: {', '.join(sorted(known))})")
    values = {key: _convert(f"[{name}] {key}", raw[key], hints[key]) for key in raw}
    return cls(**values)


def _validate(settings: Settings) -> None:
    try:
        ZoneInfo(settings.bot.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"config: [bot] timezone: unknown time zone {settings.bot.timezone!r}") from None
    if not settings.bot.languages:
        raise ConfigError("config: [bot] languages: at least one language is needed")
    for lang in settings.bot.languages:
        try:
            Locale.parse(babel_locale(lang))
        except (UnknownLocaleError, ValueError):
            raise ConfigError(f"config: [bot] languages: unknown language code {lang!r}") from None
    from bot.core.i18n import LOCALES_DIR  # a function-level import: config stays importable alone

    for lang in settings.bot.languages:
        if not (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").exists():
            raise ConfigError(f"config: [bot] languages: {lang!r} has no translation "
                              f"(locales/{lang}/LC_MESSAGES/messages.po)")
    if len(set(settings.bot.languages)) != len(settings.bot.languages):
        raise ConfigError("config: [bot] languages: a language is listed twice")
    if settings.bot.default_language not in settings.bot.languages:
        raise ConfigError(
            f"config: [bot] default_language: {settings.bot.default_language!r} is not in [bot] languages"
        )
    if settings.bot.region and not re.match(r"^[A-Z]{2}$", settings.bot.region):
        raise ConfigError(f"config: [bot] region: a two-letter country code like \"DE\", got {settings.bot.region!r}")
    if settings.bot.dialog_expiry <= timedelta(0):
        raise ConfigError("config: [bot] dialog_expiry: must be longer than zero")
    if not 1 <= settings.bot.workers <= 64:
        raise ConfigError(f"config: [bot] workers: must be between 1 and 64, got {settings.bot.workers}")
    if settings.bot.rate_limit < 0:
        raise ConfigError(f"config: [bot] rate_limit: must be 0 (no cap) or more, got {settings.bot.rate_limit}")
    if settings.bot.rate_window <= timedelta(0):
        raise ConfigError("config: [bot] rate_window: must be longer than zero")
    if settings.bot.stop_timeout < timedelta(0):
        raise ConfigError("config: [bot] stop_timeout: must not be negative")
    platforms = [entry.name for entry in _registry().entries()]
    for entry in settings.roles.coordinators:
        platform, sep, user = entry.partition(":")
        if not sep or platform not in platforms or not user:
            raise ConfigError(
                f"config: [roles] coordinators: {entry!r} is not \"platform:id\" "
                f"with platform one of {', '.join(platforms)}"
            )
    _validate_area_and_requests(settings)
    for transport in _registry().entries():
        if transport.settings is not None:
            transport.validate(settings.section(transport.name))


def _validate_area_and_requests(settings: Settings) -> None:
    area, req = settings.area, settings.requests
    if not area.districts or len(set(area.districts)) != len(area.districts) or not all(d.strip() for d in area.districts):
        raise ConfigError("config: [area] districts: a list of distinct, non-empty names is needed")
    for lang in area.languages:
        try:
            Locale.parse(babel_locale(lang))
        except (UnknownLocaleError, ValueError):
            raise ConfigError(f"config: [area] languages: unknown language code {lang!r}") from None
    if not area.languages:
        raise ConfigError("config: [area] languages: at least one language is needed")
    for name, values, known in (("topics", req.topics, TOPICS), ("service_days", req.service_days, WEEKDAYS)):
        unknown = [v for v in values if v not in known]
        if unknown or not values or len(set(values)) != len(values):
            raise ConfigError(f"config: [requests] {name}: choose distinct values from {', '.join(known)}"
                              + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    if not re.match(r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$", req.service_hours):
        raise ConfigError(f"config: [requests] service_hours: expected \"08:00-17:00\", got {req.service_hours!r}")
    start, end = req.hours
    if not 0 <= start < end <= 24 * 60:
        raise ConfigError(f"config: [requests] service_hours: the start must be before the end: {req.service_hours!r}")
    if not req.durations or any(d <= timedelta(0) for d in req.durations):
        raise ConfigError("config: [requests] durations: a list of positive durations is needed")
    if req.min_lead_time >= req.max_lead_time:
        raise ConfigError("config: [requests] min_lead_time: must be shorter than max_lead_time")
    for key in ("date_buttons", "max_open_per_person"):
        if not 1 <= getattr(req, key) <= 30:
            raise ConfigError(f"config: [requests] {key}: must be between 1 and 30")
    if not 20 <= req.note_max_length <= 2000:
        raise ConfigError("config: [requests] note_max_length: must be between 20 and 2000")
    m = settings.matching
    if not 1 <= m.wave_size <= 20:
        raise ConfigError("config: [matching] wave_size: must be between 1 and 20")
    if m.offer_timeout < timedelta(minutes=1) or m.escalate_before < timedelta(0) or m.travel_buffer < timedelta(0):
        raise ConfigError("config: [matching] offer_timeout, escalate_before, travel_buffer: must not be negative "
                          "(offer_timeout at least 1m)")
    for name, weight in vars(m.weights).items():
        if weight < 0:
            raise ConfigError(f"config: [matching.weights] {name}: must not be negative")
    r = settings.reminders
    if any(o <= timedelta(0) for o in r.offsets) or len(set(r.offsets)) != len(r.offsets):
        raise ConfigError("config: [reminders] offsets: durations before the appointment, each positive and different")
    if r.followup_after < timedelta(0) or r.followup_expiry <= timedelta(0):
        raise ConfigError("config: [reminders] followup_after, followup_expiry: must not be negative")
    if not r.hours_choices or len(r.hours_choices) > 8 or any(not 0 < h <= 24 for h in r.hours_choices):
        raise ConfigError("config: [reminders] hours_choices: 1 to 8 numbers of hours between 0 and 24")
    if r.horizon < timedelta(minutes=10) or r.retry_after < timedelta(seconds=10) or not 1 <= r.max_attempts <= 50:
        raise ConfigError("config: [reminders] horizon (at least 10m), retry_after (at least 10s), "
                          "max_attempts (1 to 50): out of range")
    p = settings.privacy
    if not p.notice_version.strip():
        raise ConfigError("config: [privacy] notice_version: must not be empty")
    for name, low, high in (("text_days", 1, 3650), ("inactive_months", 1, 120), ("erase_after_days", 1, 365),
                            ("declined_days", 1, 3650)):
        if not low <= getattr(p, name) <= high:
            raise ConfigError(f"config: [privacy] {name}: must be between {low} and {high}")
    if p.notice_url and not re.match(r"^https?://\S+$", p.notice_url):
        raise ConfigError(f"config: [privacy] notice_url: not an http(s) URL: {p.notice_url!r}")
    pg = settings.programme
    if pg.unit not in PROGRAMME_UNITS:
        raise ConfigError(f"config: [programme] unit: one of {', '.join(PROGRAMME_UNITS)}, got {pg.unit!r}")
    for name in ("rate", "weekly_cap", "weekly_cap_coordinating", "yearly_cap", "yearly_cap_coordinating",
                 "pool_hours", "benefits_monthly_limit", "tax_free_yearly", "rounding"):
        if getattr(pg, name) < 0:
            raise ConfigError(f"config: [programme] {name}: must not be negative")
    if pg.rounding > 1 or (pg.rounding and abs(round(1 / pg.rounding) - 1 / pg.rounding) > 1e-9):
        raise ConfigError("config: [programme] rounding: a fraction of an hour that divides it (0.25, 0.5, 1) or 0")
    if not 1 <= pg.average_weeks <= 53:
        raise ConfigError("config: [programme] average_weeks: between 1 and 53")
    if pg.unit != "none" and not pg.name.strip():
        raise ConfigError("config: [programme] name: needed when a unit is paid")
    if any(not 0 < share < 1 for share in pg.warn_at):
        raise ConfigError("config: [programme] warn_at: shares between 0 and 1, like [0.8, 0.95]")
    rl = settings.relay
    if rl.close_after < timedelta(0) or rl.close_after > timedelta(days=30):
        raise ConfigError("config: [relay] close_after: between 0 and 30 days")
    if not 20 <= rl.max_length <= 4000 or not 1 <= rl.shown_in_report <= 50 or not 0 <= rl.max_file_bytes <= 20_000_000:
        raise ConfigError("config: [relay] max_length (20 to 4000), shown_in_report (1 to 50), max_file_bytes "
                          "(0 to 20000000): out of range")
    ref = settings.referral
    if ref.url and not re.match(r"^https?://\S+$", ref.url):
        raise ConfigError(f"config: [referral] url: not an http(s) URL: {ref.url!r}")
    if (ref.phone or ref.hours or ref.url) and not ref.name.strip():
        raise ConfigError("config: [referral] name: needed when phone, hours or url are given")
    for topic in ref.ask_topics:
        if topic not in settings.requests.topics:
            raise ConfigError(f"config: [referral] ask_topics: {topic!r} is not one of [requests] topics")
    b = settings.broadcast
    for name in ("retry_backoff", "retry_backoff_cap", "progress_interval"):
        if not 0 <= getattr(b, name) <= 3600:
            raise ConfigError(f"config: [broadcast] {name}: must be between 0 and 3600 seconds")
    if not 1 <= b.max_attempts <= 20:
        raise ConfigError("config: [broadcast] max_attempts: must be between 1 and 20")
    if not 20 <= b.max_length <= 4000:
        raise ConfigError("config: [broadcast] max_length: must be between 20 and 4000")
    unknown = [v for v in settings.guides.require if v not in VETTING]
    if unknown:
        raise ConfigError(f"config: [guides] require: choose from {', '.join(VETTING)} (unknown: {', '.join(unknown)})")


def _read_toml(path: Path) -> dict[str, object]:
    """The file as TOML, or a ConfigError naming it.  A UTF-8 byte order mark (as some Windows
    editors write) is accepted; any other encoding is refused."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config: file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config: {path} is a directory, not a config file") from None
    except PermissionError:
        raise ConfigError(f"config: cannot read {path}: permission denied") from None
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None
    bom = len(b"\xef\xbb\xbf") if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config: {path} is not UTF-8 text (byte {bom + exc.start + 1}); "
                          "save it as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path}: not valid TOML: {exc}") from None


# Keys that moved from [broadcast] into each transport's section: "<transport>_<key>" → [<transport>] <key>.
MOVED_TO_TRANSPORTS = ("rate", "per_chat_interval")


def _move_transport_keys(merged: dict[str, typing.Any], transports: list[str]) -> None:
    """Config files written before the rates moved keep working: [broadcast] <name>_rate becomes
    [<name>] rate, with a warning; set in both places, it is an error (which one was meant?)."""
    broadcast = merged.get("broadcast")
    if not isinstance(broadcast, dict):
        return
    for name in transports:
        for key in MOVED_TO_TRANSPORTS:
            old = f"{name}_{key}"
            if old not in broadcast:
                continue
            if not isinstance(merged.get(name), dict):
                continue  # [name] is not a table: _build_section says so
            if key in merged[name]:
                raise ConfigError(f"config: [broadcast] {old}: also set as [{name}] {key}; keep only [{name}] {key}")
            merged[name][key] = broadcast.pop(old)
            log.warning("config: [broadcast] %s is now [%s] %s; please move it (still read for now)", old, name, key)


def load_settings(path: Path | None = None, environ: typing.Mapping[str, str] | None = None) -> Settings:
    """Read and validate the config file (or the embedded defaults when `path` is None).

    Relative paths in the file are taken relative to the file's directory; the default database
    path is relative to the working directory.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    base_dir = Path.cwd()
    if path is not None:
        raw = _read_toml(Path(path))
        base_dir = Path(path).resolve().parent

    hints = typing.get_type_hints(Settings)
    sections = {f.name: hints[f.name] for f in dataclasses.fields(Settings) if f.name != "transports"}
    sections.update(_registry().sections())  # [telegram], [matrix], … as the transports declare them
    for name in raw:
        if name not in sections:
            raise ConfigError(f"config: [{name}]: unknown section (known: {', '.join(sorted(sections))})")
    merged = {name: dict(raw.get(name, {})) if isinstance(raw.get(name, {}), dict) else raw[name]
              for name in sections}
    _move_transport_keys(merged, list(_registry().sections()))
    for env_name, (section, key) in env_secrets().items():
        if environ.get(env_name):
            merged[section][key] = environ[env_name]
    built = {name: _build_section(name, cls, merged[name]) for name, cls in sections.items()}
    if path is not None:  # paths written in the file are relative to the file
        for name, section in built.items():
            for key, value in vars(section).items():
                if isinstance(value, Path) and key in merged[name] and not value.is_absolute():
                    built[name] = section = dataclasses.replace(section, **{key: base_dir / value})
    transports = {name: built.pop(name) for name in _registry().sections()}
    settings = Settings(**built, transports=transports)
    _validate(settings)
    return settings
