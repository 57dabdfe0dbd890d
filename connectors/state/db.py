"""Engines, sessions and schema upgrades for the state store, on SQLite or PostgreSQL.

The store must work with zero set-up (a SQLite file under the working directory) and, unchanged, on
PostgreSQL where several workers share it; everything engine-specific about connecting lives here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic_core import PydanticSerializationError, from_json, to_json
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from common.errors import ConfigurationError

__all__ = [
    "DEFAULT_SQLITE_URL",
    "MIGRATIONS_DIR",
    "Migration",
    "create_state_engine",
    "is_postgres",
    "require_schema_at_head",
    "schema_revision",
    "session_factory",
    "upgrade",
]

DEFAULT_SQLITE_URL = "sqlite:///.bcmirakl/state.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Seconds a SQLite writer waits for another writer's lock before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30
# Page cache per connection, in KiB (`PRAGMA cache_size` takes a negative size in KiB).
SQLITE_CACHE_KIB = 64 * 1024


def create_state_engine(url: str | None = None) -> Engine:
    """Connect to the state store; `None` means the default SQLite file, whose folder is created."""
    parsed = make_url(url or DEFAULT_SQLITE_URL)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            json_serializer=_dumps_json,
            json_deserializer=_loads_json,
        )
        event.listen(engine, "connect", _tune_sqlite_connection)
        return engine
    # Pre-ping: a long-lived worker must survive PostgreSQL restarts and idle-connection reaping.
    return create_engine(parsed, pool_pre_ping=True, json_serializer=_dumps_json, json_deserializer=_loads_json)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded rows usable after commit, as tasks return them to flows."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@dataclass(frozen=True)
class Migration:
    """What an upgrade did: the revision before and after, and each revision applied, oldest first."""

    before: str | None
    after: str | None
    applied: tuple[str, ...]

    def describe(self) -> str:
        if not self.applied:
            return f"already at revision {self.after}, nothing to migrate"
        return f"migrated {self.before or 'empty database'} -> {self.after}: applied {', '.join(self.applied)}"


def upgrade(engine_or_url: Engine | str | None = None, revision: str = "head") -> Migration:
    """Bring the schema to `revision` with the migrations shipped inside the package, from any cwd."""
    if isinstance(engine_or_url, Engine):
        return _upgrade_with(engine_or_url, revision)
    engine = create_state_engine(engine_or_url)
    try:
        return _upgrade_with(engine, revision)
    finally:
        engine.dispose()


def schema_revision(engine: Engine) -> str | None:
    """The revision the state store's schema is at; None for a database no migration has touched."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_schema_at_head(engine: Engine) -> None:
    """Raise `ConfigurationError` naming `bcmirakl db upgrade` unless the schema is the code's newest.

    Runs check rather than migrate: altering a database every worker shares is an operator's step, done once.
    """
    current, head = schema_revision(engine), _scripts().get_current_head()
    if current != head:
        url = engine.url.render_as_string(hide_password=True)
        found = f"at revision {current}" if current else "empty (no bridge table yet)"
        raise ConfigurationError(
            f"state store {url} is {found}, this code needs revision {head}: "
            "run `bcmirakl db upgrade` with the same BCMIRAKL_DATABASE_URL, then retry the run"
        )


def is_postgres(bind: Engine | Connection | Session) -> bool:
    """Whether row locks (`FOR UPDATE SKIP LOCKED`) are available, i.e. several workers may share a queue."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _upgrade_with(engine: Engine, revision: str) -> Migration:
    config = _config()
    with engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
    applied = [script.revision for script in _scripts().iterate_revisions(after, before)] if after != before else []
    return Migration(before=before, after=after, applied=tuple(reversed(applied)))


def _tune_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer writes; NORMAL sync is durable enough with WAL and much faster.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    # SQLite's default page cache (2 MiB) holds a sliver of a big catalog's tables and indexes, so a million-offer
    # sync read most pages back from the OS at every statement; the cache grows to this only as pages are used.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _dumps_json(value: Any) -> str:
    """Compact JSON of the values `json.dumps` wrote, by pydantic_core's serialiser (a payload in a quarter of the
    time; a million-offer run encodes one and a half million outbox payloads).

    Both write amounts (`Decimal`) as their exact strings and NaN as `NaN`; the serialiser writes other characters
    as UTF-8 rather than `\\u` escapes (the same strings read back). Where they differ, `json` writes: an aware UTC
    time (the serialiser's `...Z"`, `isoformat`'s `+00:00`; any text ending in `Z"` takes that path, to the same
    result), and a value the serialiser cannot encode (`json` raises the `TypeError` it always raised). Sets and
    bytes, which `json` refused, are written as lists and strings.
    """
    try:
        encoded = to_json(value, inf_nan_mode="constants")
    except PydanticSerializationError:
        return _ENCODER.encode(value)
    if b'Z"' in encoded:
        return _ENCODER.encode(value)
    return encoded.decode()


def _loads_json(text: str | bytes) -> Any:
    """Stored JSON back as `json.loads` reads it, twice as fast through pydantic_core's parser; text that parser
    refuses (a lone surrogate escape, say, which `json.loads` accepts) is read by `json.loads`."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


def _json_default(value: Any) -> Any:
    # Payloads carry amounts and timestamps; they are stored as exact strings, never as floats.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


_ENCODER = json.JSONEncoder(default=_json_default, separators=(",", ":"))
