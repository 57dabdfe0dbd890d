"""Incremental-read cursors, one per stream, so each run resumes where the last recorded page ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.state._sql import upsert_rows
from connectors.state.models import StreamCursor

__all__ = ["get_cursor", "set_cursor"]


def get_cursor(session: Session, stream: str) -> str | None:
    return session.scalar(select(StreamCursor.value).where(StreamCursor.stream == stream))


def set_cursor(session: Session, stream: str, value: str, now: datetime | None = None) -> None:
    """Move the cursor; call it in the transaction that records the page's effects, never before."""
    upsert_rows(session, StreamCursor.__table__, [{"stream": stream, "value": value}], ["stream"], now=now)
