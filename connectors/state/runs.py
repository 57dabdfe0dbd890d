"""Each stream's last completed run, kept apart from the read cursors: a run mark is not a read position.

`bcmirakl status` shows it for every stream, including those that keep no cursor (the acceptance guard, the
drift monitor, reconciliation).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.state._sql import upsert_rows
from connectors.state.models import StreamRun

__all__ = ["last_successes", "mark_success"]


def mark_success(session: Session, stream: str, at: datetime) -> None:
    """Record that `stream` completed a run at `at`; call it once the run's work and report are saved."""
    upsert_rows(session, StreamRun.__table__, [{"stream": stream, "succeeded_at": at}], ["stream"])


def last_successes(session: Session) -> dict[str, datetime]:
    """Stream name (as the run wrote it) -> when it last completed."""
    return {stream: at for stream, at in session.execute(select(StreamRun.stream, StreamRun.succeeded_at)).tuples()}
