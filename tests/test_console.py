"""`lotse console` as a real process: piped scripts in three languages, several people, SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def config(tmp_path: Path, coordinators: str = "") -> Path:
    path = tmp_path / "lotse.toml"
    path.write_text(f'[database]\npath = "lotse.db"\n[roles]\ncoordinators = [{coordinators}]\n')
    return path


def run_console(tmp_path: Path, script: str, lang: str = "C", coordinators: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
    return subprocess.run([sys.executable, "-m", "bot.cli", "console", "--config", str(config(tmp_path, coordinators))],
                          input=script, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)


def people(tmp_path: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(tmp_path / "lotse.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM people ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("lang, choice, agree_word", [
    ("en_GB.UTF-8", "English", "I agree"),
    ("de_DE.UTF-8", "Deutsch", "Ich bin einverstanden"),
    ("ar_SY.UTF-8", "العربية", "أوافق"),
])
def test_piped_script_completes_onboarding(tmp_path: Path, lang: str, choice: str, agree_word: str) -> None:
    result = run_console(tmp_path, "/start\n1\n1\n1\n", lang=lang)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("[to you] ")
    assert f"  [1] {choice}\n" in out  # the locale's language is suggested first
    assert f"  [1] {agree_word}\n" in out
    assert "112" in out
    assert "Traceback" not in result.stderr
    [row] = people(tmp_path)
    assert row["language"] == lang[:2] and row["consent_at"] and row["role"] == "newcomer"


def test_several_people_in_one_script(tmp_path: Path) -> None:
    script = "@amira /start\n3\n@leila /start\n1\n@amira 1\n@leila 1\n2\n@amira 1\n/help\n"
    result = run_console(tmp_path, script, lang="en_US.UTF-8", coordinators='"console:leila"')
    assert result.returncode == 0, result.stderr
    rows = {r["platform_user_id"]: r for r in people(tmp_path)}
    assert rows["amira"]["language"] == "ar" and rows["amira"]["role"] == "newcomer"
    assert rows["leila"]["language"] == "en" and rows["leila"]["role"] == "guide"
    assert "[to leila] Thank you for volunteering!" in result.stdout
    last_block = result.stdout.rsplit("[to ", 1)[1]
    assert last_block.startswith("amira]") and "\u2068/language\u2069" in last_block


def test_a_number_without_buttons_is_just_text(tmp_path: Path) -> None:
    # after /help (a message without buttons) "9" is typed text: the open request dialog reads it
    result = run_console(tmp_path, "/start\n1\n1\n1\n1\n/help\n9\n", lang="en_US.UTF-8")
    last_two = result.stdout.rstrip().rsplit("[to you] ", 2)[1:]
    assert last_two[0].startswith("I could not read this date.")
    assert last_two[1].startswith("On which day is the appointment?")


async def _read_until(stream: asyncio.StreamReader, needle: str, timeout: float = 30) -> str:
    seen = ""
    async with asyncio.timeout(timeout):
        while needle not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"process ended before {needle!r}; output:\n{seen}")
            seen += line.decode()
    return seen


async def test_sigkill_in_the_middle_of_onboarding_resumes_at_the_same_step(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    env = {**os.environ, "LANG": "de_DE.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    argv = [sys.executable, "-m", "bot.cli", "console", "--config", str(cfg)]

    first = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                 stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    assert first.stdin and first.stdout
    first.stdin.write(b"@hamid /start\n")
    await first.stdin.drain()
    await _read_until(first.stdout, "  [3] ")
    first.stdin.write(b"2\n")  # English
    await first.stdin.drain()
    notice = await _read_until(first.stdout, "  [2] ")
    assert "Privacy notice" in notice
    first.send_signal(signal.SIGKILL)
    await first.wait()

    second = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                  stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    out, err = await second.communicate(b"@hamid 1\n1\n")
    text = out.decode()
    assert second.returncode == 0, err.decode()
    # The new process continues at the privacy step, in the language chosen before the kill.
    assert text.startswith("[to hamid] Thank you. Your consent was recorded on ")
    assert "What would you like to do?" in text
    [row] = people(tmp_path)
    assert row["language"] == "en" and row["consent_at"] is not None and row["role"] == "newcomer"


# Frau Weber (coordinator), Leila registering as a guide, Amira filing a request — typed as in a
# terminal: numbers press buttons, "@name" switches the person.
APPROVAL_AND_REQUEST = """\
@weber /start
1
1
1
@leila /start
1
1
2
1
11
14
2
5
9
1
3
8
1
2
1
1
5
9:00-12:00
3
2
1
1
@weber 1
1
15.10.2026
20.10.2026
@amira /start
1
1
1
1
4
2
2
2
1
1
11
14
1
1
1
"""


def test_coordinator_approves_a_guide_and_a_newcomer_files_a_request(tmp_path: Path) -> None:
    result = run_console(tmp_path, APPROVAL_AND_REQUEST, lang="en_GB.UTF-8", coordinators='"console:weber"')
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[to weber] leila registered as a guide and waits for your approval." in out
    assert "[to weber] leila is now an approved guide." in out
    assert "[to leila] Good news: you are approved as a guide!" in out
    assert "[to amira] Thank you! Your request was received." in out
    conn = sqlite3.connect(tmp_path / "lotse.db")
    try:
        guide = conn.execute("SELECT state, training_on, pledge_on, all_districts FROM guides").fetchone()
        slots = conn.execute("SELECT weekday, start_minute, end_minute FROM guide_slots ORDER BY weekday").fetchall()
        districts = conn.execute("SELECT district FROM guide_districts ORDER BY district").fetchall()
        request = conn.execute("SELECT topic, district, state FROM requests").fetchone()
        languages = conn.execute("SELECT language FROM request_languages ORDER BY position").fetchall()
    finally:
        conn.close()
    assert guide == ("approved", "2026-10-15", "2026-10-20", 0)
    assert slots == [(1, 480, 720), (4, 540, 720)]  # Tuesday 8–12 (a button), Friday 9–12 (typed)
    assert districts == [("Dreieich",), ("Neu-Isenburg",)]
    assert request == ("doctor", "Dreieich", "open")
    assert languages == [("ar",), ("en",)]  # Arabic best ("1"), English another ("11" of the others)


def test_mydata_in_the_terminal_is_a_file_only_its_owner_can_read(tmp_path: Path) -> None:
    import json
    import stat

    result = run_console(tmp_path, "/start\n1\n1\n1\n/mydata\n", lang="en_GB.UTF-8")
    assert result.returncode == 0, result.stderr
    [line] = [ln for ln in result.stdout.splitlines() if "📎" in ln]
    path = tmp_path / line.split("📎", 1)[1].strip()
    assert path.name == "lotse-mydata.json" and path.parent.parent == tmp_path / "data" / "console-files"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8"))["person"]["language"] == "en"
