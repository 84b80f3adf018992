"""The walls of DESIGN.md, checked on the import statements of every module."""

from __future__ import annotations

import ast
import re
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
               if (name.startswith("bot.") and not name.startswith("bot.store") and name not in ("bot.clock", "bot.vocabulary"))
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


PLATFORM_WORDS = ("telegram", "matrix", "console")


@pytest.mark.parametrize("folder", ["handlers", "bot/services", "bot/core", "bot/store"])
def test_no_platform_is_named_outside_the_transports(folder: str) -> None:
    """What differs between platforms is declared by each transport (Traits) and listed in
    bot/transports/registry.py; the rest of Lotse never names a platform — not in code, not in a
    comment or docstring (which would tell the reader a rule that lives elsewhere)."""
    for path in modules(folder):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            named = [w for w in PLATFORM_WORDS if re.search(rf"\b{w}", line, re.IGNORECASE)]
            assert not named, f"{path.relative_to(ROOT)}:{number} names a platform: {line.strip()!r}"


# Which parts of bot/ each part may import (module-level and function-level imports alike).  The
# one upward seam: config reads the transports' sections from bot/transports/registry.py and the
# catalogs' folder from bot/core/i18n.py.
ALLOWED = {
    "clock": set(), "faults": set(), "logsafe": set(), "vocabulary": set(),
    "store": {"clock", "vocabulary"},
    "config": {"transports.registry", "core.i18n", "vocabulary"},
    "core": {"clock", "config", "store", "vocabulary"},
    "services": {"clock", "config", "core", "store", "faults", "vocabulary"},
    "transports": {"clock", "config", "core", "store", "logsafe"},
    "catalogs": {"core"},
    "export": {"store", "vocabulary"},
    "app": {"clock", "config", "core", "services", "store", "vocabulary"},
}


def _part(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_the_direction_of_imports_inside_bot(part: str) -> None:
    path = ROOT / "bot" / part
    files = modules(f"bot/{part}") if path.is_dir() else [path.with_suffix(".py")]
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]  # from bot import clock
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("handlers"):
                    assert part in ("app",), f"{file.relative_to(ROOT)} imports {target}"
                if not target.startswith("bot.") or _part(target) == part:
                    continue
                inner = target[len("bot."):]
                allowed = ALLOWED[part]
                assert _part(target) in allowed or any(inner == a or inner.startswith(a + ".") for a in allowed), \
                    f"{file.relative_to(ROOT)} imports {target} (bot/{part} may import {sorted(allowed)})"


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and (getattr(n.func, "id", None) == name or getattr(n.func, "attr", None) == name)]


@pytest.mark.parametrize("path", modules("handlers"), ids=lambda p: p.name)
def test_dialogs_read_as_message_ids_and_step_objects(path: Path) -> None:
    """A translator reads a dialog where it is declared: a step's prompt is its msgid, not a
    one-line function around it; steps and dialogs are named by object, never by a string."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.endswith("_prompt")):
        body = [s for s in fn.body if not isinstance(s, ast.Expr)]  # docstrings aside
        one_line = (len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Call)
                    and getattr(body[0].value.func, "attr", None) == "_")
        assert not one_line, f"{path.name}: {fn.name} only wraps a msgid; give the Step the msgid (and values=)"
    for call in _calls(tree, "Step"):
        for keyword in call.keywords:
            if keyword.arg == "next":
                assert not isinstance(keyword.value, ast.Constant), f"{path.name}:{call.lineno}: next= a string"
    for call in _calls(tree, "start"):
        if len(call.args) >= 2 and isinstance(call.args[1], ast.Constant):
            raise AssertionError(f"{path.name}:{call.lineno}: a dialog started by its name string")
        for keyword in call.keywords:
            assert not (keyword.arg == "at" and isinstance(keyword.value, ast.Constant)), \
                f"{path.name}:{call.lineno}: at= a string"
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef) and n.name.endswith("_answer")):
        for ret in (n for n in ast.walk(fn) if isinstance(n, ast.Return)):
            assert not isinstance(ret.value, ast.Constant) or ret.value.value is None, \
                f"{path.name}:{ret.lineno}: {fn.name} returns a step name; return the Step"


@pytest.mark.parametrize("path", modules("handlers"), ids=lambda p: p.name)
def test_buttons_carry_typed_payloads(path: Path) -> None:
    """Buttons outside dialogs are minted from Payload dataclasses, not dicts with an action string."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for call in _calls(tree, "button") + _calls(tree, "buttons") + _calls(tree, "_buttons"):
        for arg in call.args:
            assert not isinstance(arg, ast.Constant), f"{path.name}:{call.lineno}: an action named by a string"
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[1], ast.Dict):
            raise AssertionError(f"{path.name}:{node.lineno}: a (label, dict) button; use a Payload dataclass")


# Tests set people and their history up through dialogs and services, as production does: a row
# written by hand may be one production can never write, and a test on it proves nothing.  Reading
# rows to check them is fine.  tests/test_store.py tests the store layer itself, and
# tests/test_bad_files.py corrupts the database on purpose.
SQL_POKES = ("UPDATE guides", "UPDATE assignments", "INSERT INTO offers", "INSERT INTO assignments",
             "UPDATE dialog_states")
MAY_POKE = {"tests/test_store.py", "tests/test_bad_files.py", "tests/test_architecture.py"}


def test_tests_do_not_write_domain_rows_by_hand() -> None:
    pokes = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() in MAY_POKE:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            flat = " ".join(line.split()).lower()  # any case, any spacing
            pokes += [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for poke in SQL_POKES
                      if poke.lower() in flat]
    assert not pokes, "set these up through a service or a dialog instead:\n" + "\n".join(pokes)
