"""Named fault points.  Production code marks the places where a crash matters
(`point("offer-sending")`); nothing happens there unless a test installed a fault for that name
(`install(name, fault)`) — e.g. tests/lotse_process.py starts `lotse run` with a SIGKILL at one
point, as a power cut would.  Costs one dict lookup when nothing is installed."""

from __future__ import annotations

from collections.abc import Callable

_faults: dict[str, Callable[[], None]] = {}


def install(name: str, fault: Callable[[], None]) -> Callable[[], None]:
    """Run `fault` whenever point `name` is reached; returns a function that removes it."""
    _faults[name] = fault
    return lambda: _faults.pop(name, None)  # type: ignore[return-value]


def point(name: str) -> None:
    fault = _faults.get(name)
    if fault is not None:
        fault()
