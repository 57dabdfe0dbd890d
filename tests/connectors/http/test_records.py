"""A page is validated in one call, yet each rejected record reads exactly as it would on its own."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator

from connectors.http import parse_page
from connectors.http.records import describe_validation_error


class Thing(BaseModel):
    id: int
    quantity: int

    @field_validator("quantity")
    @classmethod
    def _within_limit(cls, value: int, info: ValidationInfo) -> int:
        if value > (info.context or {}).get("limit", 100):
            raise ValueError("over the limit")
        return value


def alone(item: Any, context: dict[str, Any] | None = None) -> str:
    try:
        Thing.model_validate(item, context=context)
    except ValidationError as exc:
        return describe_validation_error(exc)
    raise AssertionError("valid")


def test_a_clean_page_keeps_every_record_in_order() -> None:
    page = parse_page(Thing, ({"id": n, "quantity": n} for n in range(5)), operation="list", key_of=lambda r: r["id"])

    assert [thing.id for thing in page] == [0, 1, 2, 3, 4]
    assert page.rejected == []


def test_rejected_records_keep_their_key_position_and_own_reason_and_the_rest_keep_their_order() -> None:
    items: list[Any] = [
        {"id": 0, "quantity": 1},
        {"id": 1, "quantity": "many"},
        {"id": 2, "quantity": 2},
        "not a record",
        {"id": 4, "quantity": 500},
        {"id": 5, "quantity": 3},
        {"quantity": 4},
    ]

    page = parse_page(Thing, items, operation="list", key_of=lambda r: r.get("id"), keep_raw=True)

    assert [thing.id for thing in page] == [0, 2, 5]
    assert [(r.key, r.reason) for r in page.rejected] == [
        ("1", alone(items[1])),
        ("list#3", alone(items[3])),
        ("4", alone(items[4])),
        ("list#6", alone(items[6])),
    ]
    assert page.rejected[0].reason == "quantity: Input should be a valid integer, unable to parse string as an integer"
    assert page.rejected[1].raw == {"<record>": "not a record"}


def test_the_context_reaches_every_record() -> None:
    items = [{"id": 0, "quantity": 150}, {"id": 1, "quantity": 250}]

    page = parse_page(Thing, items, operation="list", key_of=lambda r: r["id"], context={"limit": 200})

    assert [thing.id for thing in page] == [0]
    assert [(r.key, r.reason) for r in page.rejected] == [("1", alone(items[1], {"limit": 200}))]


class Neighbourly(BaseModel):
    """A record whose validity depends on the record validated before it (no real model does this)."""

    id: int

    @field_validator("id")
    @classmethod
    def _not_right_after_seven(cls, value: int, info: ValidationInfo) -> int:
        seen: list[int] = info.context["seen"]
        after_seven = bool(seen) and seen[-1] == 7
        seen.append(value)
        if value == 8 and after_seven:
            raise ValueError("follows seven")
        return value


def test_a_record_refused_beside_others_but_valid_alone_is_kept_in_its_place() -> None:
    items = [{"id": 6}, {"id": 7}, {"id": 8}, {"id": 9}]

    page = parse_page(Neighbourly, items, operation="list", key_of=lambda r: r["id"], context={"seen": []})

    assert [record.id for record in page] == [6, 7, 8, 9]
    assert page.rejected == []
