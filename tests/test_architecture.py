"""The walls of DESIGN.md, checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_LIBRARIES = {"telegram", "nio", "aiohttp", "httpx"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(folder: str) -> list[Path]:
    found = sorted((ROOT / folder).rglob("*.py"))
    assert found, f"no modules under {folder}"
    return found


@pytest.mark.parametrize("folder", ["handlers", "bot/services", "bot/core", "bot/store"])
def test_no_platform_library_outside_transports(folder: str) -> None:
    for path in modules(folder):
        bad = {name for name in imports(path) if name.split(".")[0] in PLATFORM_LIBRARIES}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("folder", ["handlers", "bot/services", "bot/core"])
def test_handlers_services_and_core_do_not_import_transports(folder: str) -> None:
    for path in modules(folder):
        bad = {name for name in imports(path) if name.startswith("bot.transports")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_store_imports_nothing_above_it() -> None:
    for path in modules("bot/store"):
        bad = {name for name in imports(path)
               if (name.startswith("bot.") and not name.startswith("bot.store") and name != "bot.clock")
               or name.startswith("handlers")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_transports_know_nothing_of_handlers() -> None:
    for path in modules("bot/transports"):
        bad = {name for name in imports(path) if name.startswith("handlers")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_clock_imports_nothing_of_lotse() -> None:
    """bot/clock.py is below every layer: the store, services and handlers all read it."""
    bad = {name for name in imports(ROOT / "bot/clock.py") if name.startswith(("bot", "handlers"))}
    assert not bad, f"bot/clock.py imports {bad}"


WALL_CLOCK = ("datetime.now(", "date.today(", "datetime.utcnow(", "time.time(")


@pytest.mark.parametrize("folder", ["handlers", "bot/services", "bot/core", "bot/store"])
def test_domain_code_reads_only_the_one_clock(folder: str) -> None:
    for path in modules(folder):
        text = path.read_text(encoding="utf-8")
        bad = [call for call in WALL_CLOCK if call in text]
        assert not bad, f"{path.relative_to(ROOT)} reads the wall clock ({bad}); use bot.clock.utcnow()"
