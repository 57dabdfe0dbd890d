"""How every connector reads a page of records: the valid ones flow on, the rejected ones are set aside.

One record that does not fit its model says nothing about the others on its page, so it must neither abort the
read (the whole feed would stop, and a stock-out behind it would never reach the storefront) nor be retried as
if the network were at fault (the same record comes back every time). Only a body that cannot be read at all
(not JSON, not the documented envelope) fails the whole page; that is `MalformedResponseError`'s job.

A rejected record keeps its key, the reason and, when the caller says the records carry no customer data, a
bounded copy of the raw row, so an operator can see what the seller sent without the quarantine growing
without limit. Readers hand every rejection to their transport's `RejectionLog`, so a stream that does not look
at `Page.rejected` itself still gets them quarantined at the end of its run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

__all__ = [
    "MAX_RAW_CHARS",
    "MAX_RAW_FIELDS",
    "Page",
    "RejectedRecord",
    "RejectionLog",
    "data_adapter",
    "describe_validation_error",
    "list_adapter",
    "parse_page",
]

M = TypeVar("M", bound=BaseModel)

MAX_RAW_FIELDS = 60  # an OF54 offer has ~45 documented fields; custom fields beyond this are cut
MAX_RAW_CHARS = 200  # per value: enough to show a bad quantity or SKU, never a whole description
MAX_KEY_CHARS = 120  # record keys go into a 255-character column


@dataclass(frozen=True)
class RejectedRecord:
    """One record a page reader set aside: where it came from, its key, why, and (maybe) a bounded raw copy."""

    operation: str
    key: str
    reason: str
    raw: dict[str, Any] | None = None


class Page(list[M]):
    """The valid records of one page (it is a list of them), with the page's rejected records beside them."""

    def __init__(self, records: Iterable[M] = (), rejected: Iterable[RejectedRecord] = ()) -> None:
        super().__init__(records)
        self.rejected: list[RejectedRecord] = list(rejected)


@dataclass
class RejectionLog:
    """The rejected records a connector met, until a task takes them (by operation) or the run's end drains them."""

    records: list[RejectedRecord] = field(default_factory=list)

    def add(self, rejected: Iterable[RejectedRecord]) -> None:
        self.records.extend(rejected)

    def take(self, operations: Iterable[str] | None = None) -> list[RejectedRecord]:
        """Remove and return the rejections of these operations (all of them when None)."""
        wanted = None if operations is None else set(operations)
        taken = [r for r in self.records if wanted is None or r.operation in wanted]
        self.records = [r for r in self.records if wanted is not None and r.operation not in wanted]
        return taken


def parse_page(
    model: type[M],
    items: Iterable[Any],
    *,
    operation: str,
    key_of: Callable[[Any], object],
    keep_raw: bool = False,
    context: Mapping[str, Any] | None = None,
) -> Page[M]:
    """Validate each item as `model`; a failure becomes a `RejectedRecord` instead of failing the page.

    The page is validated in one call (one trip into pydantic_core instead of one per record). When some records
    fail, the others are validated together again and each failed one alone, so its rejection reads exactly as
    it would have on its own.

    Args:
        model: the pydantic model of one record.
        items: the decoded records of one page.
        operation: the API operation, for the rejection's origin.
        key_of: the record's key from its raw form (None when it has none).
        keep_raw: keep a bounded copy of the raw record; only for records that carry no customer data.
        context: pydantic validation context.
    """
    records = list(items)
    adapter = list_adapter(model)
    validation_context = dict(context) if context else None
    try:
        return Page(adapter.validate_python(records, context=validation_context))
    except ValidationError as exc:
        failed = _failed_indexes(exc, len(records))
    kept = [record for index, record in enumerate(records) if index not in failed]
    try:
        valid = adapter.validate_python(kept, context=validation_context)
    except ValidationError:
        failed = set(range(len(records)))  # a record that failed only beside others: judge each alone
        valid = []
    rejected: list[RejectedRecord] = []
    for index in sorted(failed):
        try:
            record = model.model_validate(records[index], context=validation_context)
        except ValidationError as exc:
            rejected.append(_rejection(exc, records[index], index, operation, key_of, keep_raw))
            continue
        valid.insert(index - len(rejected), record)
    return Page(valid, rejected)


@cache
def list_adapter(model: type[M]) -> TypeAdapter[list[M]]:
    """The validator of a whole page of `model`, built once per model (building one costs milliseconds)."""
    return TypeAdapter(list[model])


class DataList(BaseModel, Generic[M]):
    """An answer whose records are its `data` list (a v3 write's), everything else in it ignored."""

    model_config = ConfigDict(extra="ignore")

    data: list[M]


@cache
def data_adapter(model: type[M]) -> TypeAdapter[DataList[M]]:
    """The validator of a `{"data": [model, ...]}` answer straight from its bytes, built once per model.

    pydantic-core skips the fields `model` does not declare while it reads the bytes: a 50-variant answer
    (28 KiB of which the push reads two ids per variant) validated in 67 µs, against 175 µs decoded into dicts
    and then validated.
    """
    return TypeAdapter(DataList[model])  # type: ignore[valid-type]


def _failed_indexes(exc: ValidationError, count: int) -> set[int]:
    """The positions of the records a page validation refused (every position when an error names none)."""
    failed: set[int] = set()
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        location = error["loc"]
        if not location or not isinstance(location[0], int):
            return set(range(count))
        failed.add(location[0])
    return failed


def _rejection(
    exc: ValidationError,
    item: Any,
    index: int,
    operation: str,
    key_of: Callable[[Any], object],
    keep_raw: bool,
) -> RejectedRecord:
    """A record set aside: its key (or its position when it has none usable), the reason, maybe a raw copy."""
    key = _key(key_of(item) if isinstance(item, Mapping) else None, operation, index)
    raw = bounded_raw(item) if keep_raw else None
    return RejectedRecord(operation, key, describe_validation_error(exc), raw)


def describe_validation_error(exc: ValidationError) -> str:
    """Where and why a record failed, without the offending values (they may be customer data)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False)[:5]:
        location = ".".join(str(part) for part in error["loc"]) or "<root>"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)


def bounded_raw(item: Any) -> dict[str, Any]:
    """A JSON-safe copy of a raw record: at most `MAX_RAW_FIELDS` fields of at most `MAX_RAW_CHARS` characters."""
    if not isinstance(item, Mapping):
        return {"<record>": _bounded(item)}
    return {str(name)[:MAX_RAW_CHARS]: _bounded(value) for name, value in list(item.items())[:MAX_RAW_FIELDS]}


def _bounded(value: Any) -> Any:
    if value is None or isinstance(value, bool) or (isinstance(value, int | float) and abs(value) < 2**53):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + f"… ({len(text)} characters)"


def _key(value: object, operation: str, index: int) -> str:
    text = "" if value is None else str(value)
    if not text or len(text) > MAX_KEY_CHARS or not text.isprintable():
        return f"{operation}#{index}"
    return text
