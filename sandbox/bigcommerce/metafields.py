"""Metafields of every resource type, indexed so batch listings and cursor paging stay O(page).

Variant metafields carry the ownership mark the bridge must check before writing, and order metafields carry the
Mirakl ids for customer service; both follow one schema (`Metafield` in the catalog and orders v3 specs): unique
per (client, resource type, resource id, namespace, key), `permission_set` from a fixed enum, limited lengths.
"""

from __future__ import annotations

import base64
from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sandbox.bigcommerce.settings import CLIENT_ID

__all__ = [
    "PERMISSION_SETS",
    "MetafieldIndex",
    "after_cursor",
    "decode_cursor",
    "encode_cursor",
    "metafield_errors",
    "visible_to",
    "writable_by",
]

PERMISSION_SETS = frozenset({"app_only", "read", "write", "read_and_sf_access", "write_and_sf_access"})
_LIMITS = {"namespace": 64, "key": 64, "value": 65_535, "description": 255}
_REQUIRED = ("namespace", "key", "value", "permission_set")
WRITABLE = (*_REQUIRED, "description")


def metafield_errors(item: Any, *, creating: bool) -> dict[str, str]:
    """Field → message for one metafield body; empty when valid."""
    if not isinstance(item, dict):
        return {"body": "must be an object"}
    errors: dict[str, str] = {}
    if creating:
        errors.update({name: "error.path.missing" for name in _REQUIRED if name not in item})
    for name, maximum in _LIMITS.items():
        if name not in item:
            continue
        value = item[name]
        minimum = 0 if name == "description" else 1
        if not isinstance(value, str) or not minimum <= len(value) <= maximum:
            errors[name] = f"must be a string of {minimum} to {maximum} characters"
    if "permission_set" in item and item["permission_set"] not in PERMISSION_SETS:
        errors["permission_set"] = f"must be one of {', '.join(sorted(PERMISSION_SETS))}"
    return errors


def visible_to(record: dict[str, Any], client_id: str) -> bool:
    """orders.v3.yml / catalog `permission_set`: `app_only` is "Private to the app that owns the field"."""
    return record["permission_set"] != "app_only" or record["owner_client_id"] == client_id


def writable_by(record: dict[str, Any], client_id: str) -> bool:
    """Only `write` and `write_and_sf_access` are "Open for reading and writing by other API consumers"."""
    return record["owner_client_id"] == client_id or record["permission_set"] in ("write", "write_and_sf_access")


def encode_cursor(metafield_id: int) -> str:
    return base64.b64encode(f"id:{metafield_id}".encode()).decode()


def decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        prefix, _, number = text.partition(":")
        return int(number) if prefix == "id" else None
    except ValueError:
        return None


class MetafieldIndex:
    """All metafields; ids grow with creation, so every id list below stays sorted by appending."""

    def __init__(self) -> None:
        self.records: dict[int, dict[str, Any]] = {}
        self._next_id = 1
        self._by_type: dict[str, list[int]] = {}
        self._by_resource: dict[tuple[str, int], list[int]] = {}
        self._by_name: dict[tuple[str, str, str], list[int]] = {}
        self._unique: dict[tuple[str, int, str, str], int] = {}

    def find(self, resource_type: str, resource_id: int, namespace: str, key: str) -> dict[str, Any] | None:
        metafield_id = self._unique.get((resource_type, resource_id, namespace, key))
        return None if metafield_id is None else self.records[metafield_id]

    def create(
        self, resource_type: str, resource_id: int, item: dict[str, Any], now: datetime, owner: str = CLIENT_ID
    ) -> dict[str, Any]:
        """Store a validated body for the API account `owner`; the caller has checked that the unique key is free."""
        metafield_id = self._next_id
        self._next_id += 1
        record = {
            "id": metafield_id,
            "namespace": item["namespace"],
            "key": item["key"],
            "value": item["value"],
            "permission_set": item["permission_set"],
            "description": item.get("description", ""),
            "resource_type": resource_type,
            "resource_id": resource_id,
            "date_created": now,
            "date_modified": now,
            "owner_client_id": owner,
        }
        self.records[metafield_id] = record
        self._by_type.setdefault(resource_type, []).append(metafield_id)
        self._by_resource.setdefault((resource_type, resource_id), []).append(metafield_id)
        self._by_name.setdefault((resource_type, item["namespace"], item["key"]), []).append(metafield_id)
        self._unique[(resource_type, resource_id, item["namespace"], item["key"])] = metafield_id
        return record

    def update(self, metafield_id: int, item: dict[str, Any], now: datetime) -> dict[str, Any]:
        """Apply a validated partial body; a renamed metafield moves in the name and unique indexes."""
        record = self.records[metafield_id]
        old = (record["resource_type"], record["namespace"], record["key"])
        for name in WRITABLE:
            if name in item:
                record[name] = item[name]
        new = (record["resource_type"], record["namespace"], record["key"])
        if new != old:
            self._by_name[old].remove(metafield_id)
            self._by_name.setdefault(new, []).append(metafield_id)
            self._by_name[new].sort()
            del self._unique[(old[0], record["resource_id"], old[1], old[2])]
            self._unique[(new[0], record["resource_id"], new[1], new[2])] = metafield_id
        record["date_modified"] = now
        return record

    def delete(self, metafield_id: int) -> None:
        record = self.records.pop(metafield_id)
        kind, resource_id, namespace, key = (
            record["resource_type"],
            record["resource_id"],
            record["namespace"],
            record["key"],
        )
        self._by_type[kind].remove(metafield_id)
        self._by_resource[(kind, resource_id)].remove(metafield_id)
        self._by_name[(kind, namespace, key)].remove(metafield_id)
        del self._unique[(kind, resource_id, namespace, key)]

    def select(
        self,
        resource_type: str,
        *,
        resource_ids: Iterable[int] | None = None,
        namespaces: set[str] | None = None,
        keys: set[str] | None = None,
    ) -> list[int]:
        """Ids matching every given filter, ascending, reading the narrowest index available."""
        if resource_ids is not None:
            ids = sorted(i for rid in set(resource_ids) for i in self._by_resource.get((resource_type, rid), ()))
        elif namespaces is not None and keys is not None and len(namespaces) * len(keys) == 1:
            ids = self._by_name.get((resource_type, next(iter(namespaces)), next(iter(keys))), [])
            return list(ids)
        else:
            ids = self._by_type.get(resource_type, [])
        if namespaces is None and keys is None:
            return list(ids)
        return [
            i
            for i in ids
            if (namespaces is None or self.records[i]["namespace"] in namespaces)
            and (keys is None or self.records[i]["key"] in keys)
        ]


def after_cursor(ids: list[int], cursor_id: int) -> int:
    """Position of the first id greater than the cursor's id in an ascending list."""
    return bisect_right(ids, cursor_id)
