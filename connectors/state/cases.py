"""Customer-service cases: problems that need a person (customer service or operations), one open case per cause.

Flows raise a case every run while the cause persists; opening is idempotent, so the list stays one row
per (stream, key, kind) and shows when the problem was first seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.state._sql import insert_for
from connectors.state.models import ExceptionCase
from connectors.state.types import utcnow

__all__ = ["open_cs_case", "resolve_cs_case", "unresolved_cs_cases"]


def open_cs_case(
    session: Session,
    stream: str,
    key: str,
    kind: str,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Open a case; returns False when it is already open, True when created or reopened after resolution."""
    table = ExceptionCase.__table__
    statement = insert_for(session, table).values(
        stream=stream,
        key=key,
        kind=kind,
        detail=dict(detail) if detail is not None else None,
        opened_at=now or utcnow(),
    )
    statement = statement.on_conflict_do_update(
        index_elements=["stream", "key", "kind"],
        set_={
            "detail": statement.excluded.detail,
            "opened_at": statement.excluded.opened_at,
            "resolved_at": None,
        },
        where=table.c.resolved_at.is_not(None),
    ).returning(table.c.id)
    return session.execute(statement).first() is not None


def resolve_cs_case(session: Session, stream: str, key: str, kind: str, now: datetime | None = None) -> bool:
    """Close an open case; returns whether one was open."""
    result = session.execute(
        update(ExceptionCase)
        .where(
            ExceptionCase.stream == stream,
            ExceptionCase.key == key,
            ExceptionCase.kind == kind,
            ExceptionCase.resolved_at.is_(None),
        )
        .values(resolved_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount > 0


def unresolved_cs_cases(session: Session, stream: str | None = None) -> list[ExceptionCase]:
    """Unresolved cases, oldest first."""
    query = (
        select(ExceptionCase)
        .where(ExceptionCase.resolved_at.is_(None))
        .order_by(ExceptionCase.opened_at, ExceptionCase.id)
        .execution_options(populate_existing=True)
    )
    if stream is not None:
        query = query.where(ExceptionCase.stream == stream)
    return list(session.scalars(query))
