"""Dialect-aware bulk statements shared by the repositories.

SQLite and PostgreSQL both speak `INSERT ... ON CONFLICT`, but through different `insert` constructs; this
module picks the right one and runs bulk upserts as chunked executemany, so 100k rows take seconds.

On SQLite a bulk statement is compiled once and its rows bound column by column (`execute_many`): SQLAlchemy's
own executemany builds and processes a parameter dictionary per row, which cost more than SQLite's work on a
million-offer push (`benchmarks/README.md`). PostgreSQL keeps SQLAlchemy's path, whose "insertmanyvalues"
batching already sends many rows per statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from pydantic_core import to_json
from sqlalchemy import (
    ColumnElement,
    Dialect,
    Executable,
    String,
    Table,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from connectors.state.types import utcnow

# Rows per executemany; bounds memory and keeps each round trip's parameter list moderate.
CHUNK_SIZE = 5000
# Keys per `IN (...)` list; SQLite refuses more than 32766 bound parameters in one statement.
IN_CHUNK_SIZE = 1000

_T = TypeVar("_T")
# Prefix for the bound parameters of executemany UPDATEs; SET parameters may not reuse column names.
_BIND_PREFIX = "b_"


def insert_for(session: Session, table: Table) -> sqlite.Insert | postgresql.Insert:
    """The `insert` of the session's dialect, the one that offers `on_conflict_do_*`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def among(session: Session, column: ColumnElement[Any], values: Iterable[int | str]) -> ColumnElement[bool]:
    """`column IN values`, for a list of ids or keys of one statement.

    On SQLite the list is one parameter, a JSON array that `json_each` reads (`id IN (SELECT value FROM
    json_each(?))`, still a lookup per value in the column's index): SQLAlchemy renders an expanding `IN`'s
    parameters one by one at each execution and SQLite prepares a new text for each list length, which cost
    more than the lookups (1,000 ids of 200,000 rows: 3.4 ms a select as an expanding `IN`, 2.0 ms this way).
    PostgreSQL keeps the expanding `IN`.
    """
    listed = list(values)
    if session.get_bind().dialect.name != "sqlite":
        return column.in_(listed)
    array = bindparam(None, to_json(listed).decode(), type_=String, unique=True)
    return column.in_(select(literal_column("value")).select_from(func.json_each(array)))


def chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def upsert_rows(
    session: Session,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    now: datetime | None = None,
) -> int:
    """Insert rows, or update on the unique `keys` only the columns each row carries.

    Rows are grouped by the set of columns they carry, so a partial row never blanks a column it omits; a
    row lacking a column that an insert needs only updates an existing row. A table's `updated_at` is set
    to `now` on insert and update alike. Returns the number of rows given.
    """
    stamp = _stamp(table, now)
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    # Rows of one producer carry their keys in one order: the columns are sorted once per order, not per row.
    sorted_columns: dict[tuple[str, ...], tuple[str, ...]] = {}
    for row in rows:
        shape = tuple(row)
        columns = sorted_columns.get(shape)
        if columns is None:
            columns = sorted_columns[shape] = tuple(sorted({*shape, *stamp}))
        groups.setdefault(columns, []).append(row)
    written = 0
    for columns, group in groups.items():
        statement, prefix = _write_statement(session, table, keys, columns)
        if prefix:
            group = [{f"{prefix}{name}": value for name, value in row.items()} for row in group]
        execute_many(session, statement, group, _prefixed(stamp, prefix))
        written += len(group)
    return written


def upsert_columns(
    session: Session,
    table: Table,
    columns: Mapping[str, Sequence[Any]],
    keys: Sequence[str],
    *,
    now: datetime | None = None,
) -> int:
    """`upsert_rows` for rows given as equal-length columns, each row carrying every column: no dict is built per
    row (a full run writes a whole catalog's offer book). Returns the number of rows given."""
    count = len(next(iter(columns.values()), ()))
    if not count:
        return 0
    stamp = _stamp(table, now)
    statement, prefix = _write_statement(session, table, keys, sorted({*columns, *stamp}))
    execute_columns(session, statement, _prefixed(columns, prefix), _prefixed(stamp, prefix))
    return count


def _stamp(table: Table, now: datetime | None) -> dict[str, datetime]:
    """The `updated_at` every written row gets, for a table that has one."""
    return {"updated_at": now or utcnow()} if "updated_at" in table.c else {}


def _write_statement(
    session: Session, table: Table, keys: Sequence[str], columns: Sequence[str]
) -> tuple[Executable, str]:
    """The bulk statement for rows carrying `columns`, and the prefix its parameters take: an upsert when the
    columns are enough to insert a row, else an update of existing rows (whose SET parameters are prefixed)."""
    changed = [column for column in columns if column not in keys]
    if _insert_requires(table).issubset(columns):
        return _upsert_statement(session, table, keys, changed), ""
    return _update_statement(table, keys, changed), _BIND_PREFIX


def _prefixed(values: Mapping[str, _T], prefix: str) -> Mapping[str, _T]:
    return {f"{prefix}{name}": value for name, value in values.items()} if prefix else values


def execute_many(
    session: Session,
    statement: Executable,
    rows: Sequence[Mapping[str, Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """`session.execute(statement, rows)` for rows of one shape, in chunks, binding column by column on SQLite.

    The statement is compiled once for the rows' columns; each chunk's column values pass through their type's
    bind processor in one list (money quantized, timestamps as UTC text, JSON encoded), and the tuples go to the
    driver's executemany through `exec_driver_sql`, so the engine's cursor events still see the statement. A
    statement this cannot bind exactly (a default computed per row, an expanding `IN`) takes SQLAlchemy's path.
    `constants` are parameters every row shares (a stamp), over the rows' own values of the same name: bound once
    rather than copied into each row.
    """
    if rows:
        _execute_chunks(
            session,
            statement,
            list(rows[0]),
            len(rows),
            constants,
            rows_of=lambda start, stop: rows[start:stop],
            column_of=lambda name, start, stop: [row[name] for row in rows[start:stop]],
        )


def execute_columns(
    session: Session,
    statement: Executable,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """`execute_many` for rows given as equal-length columns: on SQLite each chunk's column is bound as the slice
    it already is; SQLAlchemy's path (PostgreSQL) gets row dictionaries a chunk at a time."""
    names = list(columns)
    count = len(columns[names[0]]) if names else 0
    if count:
        _execute_chunks(
            session,
            statement,
            names,
            count,
            constants,
            rows_of=lambda start, stop: [
                dict(zip(names, values, strict=True))
                for values in zip(*(columns[name][start:stop] for name in names), strict=True)
            ],
            column_of=lambda name, start, stop: list(columns[name][start:stop]),
        )


def _execute_chunks(
    session: Session,
    statement: Executable,
    names: list[str],
    count: int,
    constants: Mapping[str, Any] | None,
    *,
    rows_of: Callable[[int, int], Sequence[Mapping[str, Any]]],
    column_of: Callable[[str, int, int], list[Any]],
) -> None:
    """Send `count` rows carrying `names` in chunks: bound column by column (`column_of` a chunk's values of one
    column) where `_bound_columns` can, else as rows (`rows_of` a chunk's) through SQLAlchemy."""
    shared = dict(constants or {})
    connection = session.connection()
    binding = _bound_columns(connection.dialect, statement, names, shared)
    for start in range(0, count, CHUNK_SIZE):
        stop = min(start + CHUNK_SIZE, count)
        if binding is None:
            chunk = rows_of(start, stop)
            session.execute(statement, [{**row, **shared} for row in chunk] if shared else list(chunk))
        else:
            given = {name: column_of(name, start, stop) for name in binding.row_names}
            connection.exec_driver_sql(binding.sql, binding.parameters(given, stop - start))


_FROM_ROW = object()


@dataclass(frozen=True)
class _ColumnBinding:
    """A compiled bulk statement and, per positional parameter, where its value comes from: the row's own value
    through the column's bind processor, or a constant processed once (a scalar default, a literal)."""

    sql: str
    columns: list[tuple[str, Callable[[Any], Any] | None, Any]]

    @property
    def row_names(self) -> list[str]:
        """The parameters whose values come from the rows."""
        return [name for name, _, constant in self.columns if constant is _FROM_ROW]

    def parameters(self, given: Mapping[str, list[Any]], count: int) -> list[tuple[Any, ...]]:
        """The driver's parameter tuples of a chunk of `count` rows, from the rows' values of each of `row_names`."""
        values = [
            _processed(name, process, given[name], self.sql) if constant is _FROM_ROW else [constant] * count
            for name, process, constant in self.columns
        ]
        return list(zip(*values, strict=True))


def _processed(name: str, process: Callable[[Any], Any] | None, values: list[Any], sql: str) -> list[Any]:
    """One column's values through its bind processor; a value it refuses fails as SQLAlchemy's binding does."""
    if process is None or not values:
        return values
    try:
        first = values[0]
        # A stamp shared by every row (`updated_at`, a claim's time) is converted once, not once per row.
        if all(value is first for value in values):
            return [process(first)] * len(values)
        return [process(value) for value in values]
    except (TypeError, ValueError) as exc:
        raise StatementError(f"({type(exc).__name__}) {exc} [parameter {name}]", sql, None, exc) from exc


def _bound_columns(
    dialect: Dialect, statement: Executable, names: Sequence[str], constants: Mapping[str, Any]
) -> _ColumnBinding | None:
    """The statement compiled for rows carrying `names` and the shared `constants`, with where each parameter
    comes from; None where SQLAlchemy must bind."""
    if dialect.name != "sqlite":
        return None
    given = set(names) - set(constants)
    compiled = statement.compile(dialect=dialect, column_keys=list(dict.fromkeys([*names, *constants])))
    assert isinstance(compiled, SQLCompiler)
    if compiled.positiontup is None or compiled.update_prefetch or compiled.literal_execute_params:
        return None
    defaults = {column.key: column.default for column in compiled.insert_prefetch}
    processors: Mapping[str, Callable[[Any], Any]] = compiled._bind_processors
    columns: list[tuple[str, Callable[[Any], Any] | None, Any]] = []
    for name in compiled.positiontup:
        process = processors.get(name)
        if name in given:
            columns.append((name, process, _FROM_ROW))
            continue
        default, bind = defaults.get(name), compiled.binds[name]
        if name in constants:
            constant = constants[name]
        elif default is not None and default.is_scalar:
            constant = default.arg
        elif name not in defaults and not bind.required and bind.callable is None and not bind.expanding:
            constant = bind.value  # a literal of the statement itself (`WHERE status != 'done'`)
        else:
            return None
        columns.append((name, None, _processed(name, process, [constant], compiled.string)[0]))
    return _ColumnBinding(compiled.string, columns)


def _upsert_statement(session: Session, table: Table, keys: Sequence[str], changed: list[str]) -> Executable:
    statement = insert_for(session, table)
    if not changed:
        return statement.on_conflict_do_nothing(index_elements=list(keys))
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={column: statement.excluded[column] for column in changed}
    )


def _update_statement(table: Table, keys: Sequence[str], changed: list[str]) -> Executable:
    return (
        update(table)
        .where(*(table.c[key] == bindparam(f"{_BIND_PREFIX}{key}") for key in keys))
        .values({column: bindparam(f"{_BIND_PREFIX}{column}") for column in changed})
    )


def _insert_requires(table: Table) -> set[str]:
    """Columns an INSERT cannot do without: NOT NULL, no default, not generated by the database."""
    return {
        column.name
        for column in table.c
        if not column.nullable
        and column.default is None
        and column.server_default is None
        and column is not table.autoincrement_column
    }
