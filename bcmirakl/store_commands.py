"""Plumbing shared by the commands that read or edit the state store: `offers`, `carriers`, `status`, `report`.

The `offers` and `carriers` families add their actions under one sub-command (`add_command_family`), and every
one of these commands runs on a session of the configured store (`state_store`), opened as the flows open it:
checked, never migrated. Altering a database every worker shares is `bcmirakl db upgrade`'s job, which says
what it applied; a read-only `status` must not do it behind the operator's back, so a store behind the code's
schema stops the command with one sentence naming that step.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["Subcommands", "add_command_family", "state_store", "state_store_url"]

# argparse's type for what `add_subparsers()` returns (private in typeshed, public in use).
Subcommands = argparse._SubParsersAction  # type: ignore[type-arg]


def add_command_family(commands: Subcommands, name: str, help_text: str) -> Subcommands:
    """Add `bcmirakl <name>` and return where its actions go; the chosen action lands in `args.<name>_command`."""
    family = commands.add_parser(name, help=help_text)
    return family.add_subparsers(dest=f"{name}_command", required=True)


def state_store_url() -> str | None:
    """BCMIRAKL_DATABASE_URL checked (None: the default SQLite file); `ConfigurationError` names the variable."""
    from bridge.settings import ENV_PREFIX, check_database_url
    from common.errors import ConfigurationError

    try:
        return check_database_url(os.environ.get(f"{ENV_PREFIX}DATABASE_URL"))
    except ValueError as exc:
        raise ConfigurationError(f"{ENV_PREFIX}DATABASE_URL: {exc}") from None


@contextmanager
def state_store() -> Iterator[Session]:
    """A session on the state store BCMIRAKL_DATABASE_URL names, once its schema is known to be the code's newest.

    Raises `ConfigurationError` naming `bcmirakl db upgrade` otherwise (the check the runtime makes for runs).
    """
    from connectors.state import create_state_engine, require_schema_at_head, session_factory

    engine = create_state_engine(state_store_url())
    try:
        require_schema_at_head(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()
