"""Whether a process of this host still runs, for the two places that must tell a dead run from a live one.

`bcmirakl run` stops the temporary Prefect server of a run that was killed (`bcmirakl.prefect_api`), and a
drain takes back the outbox claims and keyed writes of a worker whose process is gone (`tasks.leases`). Both
ask the same question of a pid, so both ask it here, in the bottom layer either may import.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["process_alive"]


def process_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, already dead but not yet reaped by its parent, does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (macOS) or a process gone meanwhile: kill(0) said it runs
        return True
