"""A stream's declared read position: one rule for every stream that sweeps a source by modification time.

As dlt's `incremental`, a stream declares its cursor (a name in the state store, an overlap and an initial
value) instead of writing its own resume rule. `start()` is where the next read begins: the operator's `since`
when a run is given one (a replay), else the saved position, either way moved back by the overlap, because pages
shift while records change and a source may commit late; with neither it is `initial` (None: read everything).
Reading a little twice is harmless (every write is keyed); missing a record is not. `advance()` saves the new
position in the caller's transaction, the one that records the page's effects, so a crash before the commit
leaves the cursor where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from connectors.state import get_cursor, set_cursor

__all__ = ["Cursor"]


@dataclass(frozen=True)
class Cursor:
    """The position of one incremental read, kept in the state store under `name`.

    `overlap` is how far before the saved position (or a replay point) a read starts; `initial` is where a
    stream starts before any position was saved (None: from the beginning of the source).
    """

    name: str
    overlap: timedelta = timedelta(0)
    initial: datetime | None = None

    @classmethod
    def with_overlap(cls, name: str, overlap_seconds: float, initial: datetime | None = None) -> Cursor:
        """A cursor whose overlap comes from configuration, which counts it in seconds."""
        return cls(name, timedelta(seconds=overlap_seconds), initial)

    def saved(self, session: Session) -> datetime | None:
        """The position the last recorded read reached, or None before the first."""
        value = get_cursor(session, self.name)
        return datetime.fromisoformat(value) if value else None

    def start(self, session: Session, since: datetime | None = None) -> datetime | None:
        """Where the next read begins: `since` (a replay) or the saved position less the overlap, else `initial`."""
        position = since if since is not None else self.saved(session)
        return self.initial if position is None else position - self.overlap

    def advance(self, session: Session, to: datetime) -> str:
        """Save `to` (in UTC) as the position reached, in the caller's transaction; returns the value saved."""
        value = to.astimezone(UTC).isoformat()
        set_cursor(session, self.name, value)
        return value
