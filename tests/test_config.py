"""Config: defaults, every documented key, and one clear line (exit 2) for each kind of mistake."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, Settings, load_settings, parse_duration

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lotse.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_embedded_defaults() -> None:
    settings = load_settings(None, environ={})
    assert settings.database.path == Path("data/lotse.db")
    assert not settings.section("telegram").enabled and not settings.section("matrix").enabled
    assert settings.bot.timezone == "Europe/Berlin"
    assert settings.bot.languages == ("de", "en", "ar", "fa", "prs", "ps", "ku", "tr", "ti", "so", "uk", "ru", "fr")


def test_example_config_is_valid_and_documents_every_key() -> None:
    example = ROOT / "config.example.toml"
    settings = load_settings(example, environ={})
    assert isinstance(settings, Settings)
    raw = tomllib.loads(example.read_text(encoding="utf-8"))
    import dataclasses

    sections = {f.name: getattr(settings, f.name) for f in dataclasses.fields(Settings) if f.name != "transports"}
    sections.update(settings.transports)  # each registered transport's section
    assert {"telegram", "matrix"} <= set(settings.transports)
    for name, section in sections.items():
        keys = {f.name for f in dataclasses.fields(section)}
        assert name in raw, f"[{name}] missing from config.example.toml"
        assert keys <= set(raw[name]), f"undocumented keys in [{name}]: {keys - set(raw[name])}"


def test_values_are_read_and_relative_paths_follow_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, """
[database]
path = "db/lotse.db"
[roles]
coordinators = ["telegram:123456", "matrix:@anna:example.org", "console:anna"]
[bot]
timezone = "Europe/Berlin"
default_language = "en"
languages = ["en", "ar"]
dialog_expiry = "36h"
""")
    settings = load_settings(path, environ={})
    assert settings.database.path == tmp_path / "db" / "lotse.db"
    assert settings.bot.dialog_expiry == timedelta(hours=36)
    assert settings.is_coordinator("matrix", "@anna:example.org")
    assert settings.is_coordinator("console", "anna")
    assert not settings.is_coordinator("telegram", "999")


def test_secrets_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\nenabled = true\n[matrix]\nenabled = true\n'
                           'homeserver = "http://127.0.0.1:8008"\nuser_id = "@lotse:localhost"\n')
    settings = load_settings(path, environ={"LOTSE_TELEGRAM_TOKEN": "123:abc", "LOTSE_MATRIX_PASSWORD": "pw",
                                            "LOTSE_MATRIX_ACCESS_TOKEN": "syt_x"})
    assert settings.section("telegram").token == "123:abc"
    assert settings.section("matrix").password == "pw" and settings.section("matrix").access_token == "syt_x"


@pytest.mark.parametrize("text, expected", [
    ("[telegram]\ntokn = 'x'\n", "config: [telegram] tokn: unknown key"),
    ("[telgram]\n", "config: [telgram]: unknown section"),
    ("[telegram]\nenabled = 'yes'\n", "config: [telegram] enabled: expected true or false, got 'yes'"),
    ("[telegram]\nenabled = true\n", "config: [telegram] token: required when [telegram] enabled = true"),
    ("[bot]\ntimezone = 'Europe/Berln'\n", "config: [bot] timezone: unknown time zone 'Europe/Berln'"),
    ("[bot]\ndialog_expiry = 'two days'\n", "config: [bot] dialog_expiry: 'two days' is not a duration"),
    ("[bot]\ndialog_expiry = 7\n", "config: [bot] dialog_expiry: expected a duration string"),
    ("[bot]\nlanguages = ['de', 'xx-nope']\n", "config: [bot] languages: unknown language code 'xx-nope'"),
    ("[bot]\nlanguages = ['de']\ndefault_language = 'fr'\n",
     "config: [bot] default_language: 'fr' is not in [bot] languages"),
    ("[bot]\nlanguages = 'de'\n", "config: [bot] languages: expected a list"),
    ("[bot]\nlanguages = ['de', 'am']\n", "config: [bot] languages: 'am' has no translation"),
    ("[roles]\ncoordinators = ['weber']\n", "config: [roles] coordinators: 'weber' is not \"platform:id\""),
    ("[roles]\ncoordinators = [123]\n", "config: [roles] coordinators[0]: expected a string"),
    ("[matrix]\nenabled = true\nhomeserver = 'localhost'\n", "config: [matrix] homeserver: not an http(s) URL"),
    ("[telegram]\nbase_url = 'ftp://x'\n", "config: [telegram] base_url: not an http(s) URL"),
    ("[database]\npath = ''\n", "config: [database] path: expected a file path string"),
    ("[bot\n", "not valid TOML"),
    ("[telegram]\nrate = 0\n", "config: [telegram] rate: must be above 0"),
    ("[telegram]\nper_chat_interval = -1\n", "config: [telegram] per_chat_interval: must be between 0 and 3600"),
    ("[matrix]\nrate = 5000\n", "config: [matrix] rate: must be above 0 and at most 1000"),
    ("[broadcast]\ntelegram_rate = 0\n", "config: [telegram] rate: must be above 0"),
    ("[broadcast]\nmatrix_rate = 5.0\n[matrix]\nrate = 8.0\n",
     "config: [broadcast] matrix_rate: also set as [matrix] rate; keep only [matrix] rate"),
    ("[broadcast]\nconsole_rate = 5.0\n", "config: [broadcast] console_rate: unknown key"),
])
def test_bad_config_is_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), environ={})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_rates_live_in_each_transports_section_and_old_keys_still_work(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """[telegram] rate / per_chat_interval and [matrix] rate; a config file written before they moved
    out of [broadcast] is read the same, with a warning that says where each key goes now."""
    new = load_settings(write(tmp_path, "[telegram]\nrate = 12.5\nper_chat_interval = 2.0\n[matrix]\nrate = 3.0\n"),
                        environ={})
    assert (new.section("telegram").rate, new.section("telegram").per_chat_interval) == (12.5, 2.0)
    assert new.section("matrix").rate == 3.0
    assert not caplog.records
    old = load_settings(write(tmp_path, "[broadcast]\ntelegram_rate = 12.5\ntelegram_per_chat_interval = 2.0\n"
                                        "matrix_rate = 3.0\nmax_attempts = 4\n"), environ={})
    assert old.transports == new.transports and old.broadcast.max_attempts == 4
    warned = sorted(r.getMessage() for r in caplog.records)
    assert warned == ["config: [broadcast] matrix_rate is now [matrix] rate; please move it (still read for now)",
                      "config: [broadcast] telegram_per_chat_interval is now [telegram] per_chat_interval; "
                      "please move it (still read for now)",
                      "config: [broadcast] telegram_rate is now [telegram] rate; please move it (still read for now)"]


def test_the_transports_are_built_with_the_rates_of_their_sections(tmp_path: Path) -> None:
    from bot.transports import registry

    settings = load_settings(write(tmp_path, "[telegram]\ntoken = '1:x'\nrate = 12.5\nper_chat_interval = 2.0\n"
                                             "[matrix]\nrate = 3.0\n"), environ={})
    telegram = registry.get("telegram").build(settings, settings.section("telegram"))
    matrix = registry.get("matrix").build(settings, settings.section("matrix"))
    assert (telegram.traits.rate, telegram.traits.per_chat_interval) == (12.5, 2.0)
    assert matrix.traits.rate == 3.0


def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[bot]\ntimezone = 'Mars/Olympus'\n")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(path)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "config: [bot] timezone: unknown time zone 'Mars/Olympus'"
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_cli_missing_file(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--config", str(tmp_path / "nope.toml")],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("config: file not found:")


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["s", "m", "h", "d", "w"]))
def test_durations_parse(number: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    assert parse_duration(f"{number}{unit}") == timedelta(seconds=number * seconds)


@pytest.mark.parametrize("text", ["", "90", "m90", "1.5h", "2 hours", "-1h", "1h30m"])
def test_durations_reject_other_forms(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
