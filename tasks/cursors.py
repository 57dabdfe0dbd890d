"""Where an incremental read starts: one rule for every stream that sweeps a source by modification time.

The start is the operator's `since` when a run is given one (a replay), else the saved cursor; either way it is
moved back by the stream's overlap, because pages shift while records change and a source may commit late.
Reading a little twice is harmless (every write is keyed); missing a record is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from connectors.state import get_cursor

__all__ = ["resume_from"]


def resume_from(
    sessions: sessionmaker[Session], cursor: str, overlap_seconds: float, since: datetime | None = None
) -> datetime | None:
    """The start of the next read, or None for a first read of everything."""
    if since is None:
        with sessions() as session:
            saved = get_cursor(session, cursor)
        if saved is None:
            return None
        since = datetime.fromisoformat(saved)
    return since - timedelta(seconds=overlap_seconds)
