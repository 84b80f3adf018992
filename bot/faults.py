"""Fault injection for the restart tests: `LOTSE_CRASH_AT=<name>` kills the process at the named
point, as a power cut would (SIGKILL: no cleanup, no flush).  Costs one dict lookup elsewhere."""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("LOTSE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
